"""The Docker engine connection, image lookup and the thread pool for blocking calls.

Every Docker call in the platform goes through a client made here, so an engine
that does not answer becomes one `DockerUnavailable` line, and async callers
reach the blocking client only through `run_blocking`.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

import docker
import docker.errors
import requests.exceptions

from worksample.config import get_settings
from worksample.errors import DockerUnavailable, ImageMissing

T = TypeVar("T")

_client_lock = threading.Lock()
_client: docker.DockerClient | None = None
_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sandbox-docker")

UNAVAILABLE_HINT = "is dockerd running? start it with `systemctl start docker` (or `dockerd &`), or set DOCKER_HOST"


def client() -> docker.DockerClient:
    """The shared Docker client; raises DockerUnavailable with what to run if the engine is down."""
    global _client
    with _client_lock:
        if _client is None:
            _client = _connect()
        return _client


def _connect() -> docker.DockerClient:
    settings = get_settings()
    try:
        if settings.docker_host:
            made = docker.DockerClient(base_url=settings.docker_host, timeout=120)
        else:
            made = docker.from_env(timeout=120)
        made.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        where = settings.docker_host or "the local socket"
        raise DockerUnavailable(f"Docker engine not reachable at {where} ({_short(exc)}); {UNAVAILABLE_HINT}") from None
    return made


def reset_client() -> None:
    """Forget the cached client (after settings change, or in tests)."""
    global _client
    with _client_lock:
        _client = None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def translate_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator: turn connection failures mid-call into DockerUnavailable."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except requests.exceptions.ConnectionError as exc:
            raise DockerUnavailable(f"Docker engine stopped answering ({_short(exc)}); {UNAVAILABLE_HINT}") from None

    return wrapper


async def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking (Docker) call in the sandbox thread pool so the event loop never waits on it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(fn, *args, **kwargs))


def resolve_image(name: str) -> str:
    """An image reference for `name`: `notebook` → `worksample/notebook:<hash>`.

    A reference with `:` or `/` is used as given (it must exist locally: nothing is
    ever pulled). Raises ImageMissing saying to run `worksample images build`.
    """
    if ":" in name or "/" in name:
        _require_local(name)
        return name
    try:
        from worksample.images import require  # written alongside; owns tags and hashes
    except ImportError:
        return _newest_local(name)
    return require(name, client=client())


def _require_local(ref: str) -> None:
    try:
        client().images.get(ref)
    except docker.errors.ImageNotFound:
        raise ImageMissing(f"image {ref} is not on this engine; run `worksample images build`") from None


def _newest_local(name: str) -> str:
    """Fallback lookup used only until `worksample.images.require` exists."""
    prefix = get_settings().image_prefix
    images = client().images.list(name=f"{prefix}/{name}")
    tagged = sorted(
        ((img.attrs.get("Created", ""), tag) for img in images for tag in img.tags if tag.startswith(f"{prefix}/{name}:")),
        reverse=True,
    )
    if not tagged:
        raise ImageMissing(f"image {prefix}/{name} is not built; run `worksample images build`")
    return tagged[0][1]
