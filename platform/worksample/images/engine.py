"""The Docker calls image building needs, in one place.

Besides `sandbox/`, this is the only module that imports `docker`: images
are made through the Docker API (import, build, a short probe container).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO, Iterator

import docker
from requests.exceptions import RequestException
from docker.errors import APIError, BuildError, DockerException, ImageNotFound

from worksample.config import get_settings
from worksample.errors import DockerUnavailable, WorksampleError

_STEP = re.compile(r"^---> ([0-9a-f]{12})$")
API_VERSION = "1.41"  # Docker 20.10, the oldest engine we support; newer ones accept it
_HINT = "start it with `make up` or `dockerd`, or set DOCKER_HOST"


class ImageBuildFailed(WorksampleError):
    """`docker build` or `docker import` of a sandbox image failed."""


def connect(client: docker.DockerClient | None = None) -> docker.DockerClient:
    """A Docker client that answers, or DockerUnavailable saying what to run."""
    if client is None:
        _check_socket()
    made = None
    try:
        # A fixed API version: auto-detection calls the engine inside the
        # constructor and leaks its socket when the engine is down.
        client = client or (made := docker.from_env(timeout=600, version=API_VERSION))
        client.ping()
    except (DockerException, RequestException) as exc:
        if made is not None:
            made.close()
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DockerUnavailable(f"the Docker engine is not reachable ({first}); {_HINT}") from None
    return client


def _check_socket() -> None:
    """Fail fast when DOCKER_HOST (or the default) is a unix socket that is not there.

    docker-py leaks the socket of a failed unix connect, which tests see as a
    ResourceWarning; a missing socket is also the usual "engine not started".
    """
    host = os.environ.get("DOCKER_HOST") or get_settings().docker_host or "unix:///var/run/docker.sock"
    if host.startswith("unix://") and not Path(host[len("unix://"):]).exists():
        raise DockerUnavailable(f"the Docker engine is not reachable (no socket at {host[len('unix://'):]}); {_HINT}")


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    """Whether the engine has an image by this tag or id."""
    try:
        client.api.inspect_image(ref)
    except ImageNotFound:
        return False
    return True


def image_id(client: docker.DockerClient, ref: str) -> str | None:
    """The image's id (sha256:…), or None when the engine does not have it."""
    try:
        return client.api.inspect_image(ref)["Id"]
    except ImageNotFound:
        return None


def image_size(client: docker.DockerClient, ref: str) -> int:
    """The image's size in bytes, including its parents."""
    return int(client.api.inspect_image(ref)["Size"])


def pull(client: docker.DockerClient, ref: str) -> str:
    """Pull `ref` from its registry and return its id; one-line error when that fails."""
    try:
        client.api.pull(ref)
    except (APIError, DockerException) as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        raise WorksampleError(
            f"--base {ref}: not in the engine and pulling it failed ({reason.splitlines()[0]}); "
            "`docker load` it, or build without --base"
        ) from None
    found = image_id(client, ref)
    if found is None:
        raise WorksampleError(f"--base {ref}: pulled, but the engine has no such image")
    return found


def import_rootfs(client: docker.DockerClient, tarball: Path, ref: str, changes: list[str]) -> None:
    """`docker import` a root filesystem tarball as `ref`."""
    repository, tag = ref.rsplit(":", 1)
    try:
        out = client.api.import_image_from_file(str(tarball), repository=repository, tag=tag, changes=changes)
    except APIError as exc:
        raise ImageBuildFailed(f"docker import of {ref} failed: {exc.explanation or exc}") from None
    if "error" in str(out).lower() and not image_exists(client, ref):
        raise ImageBuildFailed(f"docker import of {ref} failed: {out}")


def build(
    client: docker.DockerClient, context: IO[bytes], ref: str, buildargs: dict[str, str],
    labels: dict[str, str], log: IO[str],
) -> None:
    """`docker build` a tar context as `ref` with no network, logging to `log`."""
    stream = client.api.build(
        fileobj=context, custom_context=True, encoding=None, tag=ref, buildargs=buildargs,
        labels=labels, network_mode="none", rm=True, forcerm=True, pull=False, decode=True,
    )
    last, steps = "", []
    try:
        for chunk in _chunks(stream, ref):
            if "stream" in chunk:
                log.write(chunk["stream"])
                last = chunk["stream"].strip() or last
                match = _STEP.match(last)
                if match:
                    steps.append(match.group(1))
            if "error" in chunk:
                log.write(chunk["error"] + "\n")
                raise ImageBuildFailed(f"building {ref} failed: {chunk['error'].strip()} (log: {log.name})")
        if not image_exists(client, ref):
            raise ImageBuildFailed(f"building {ref} produced no image; last output: {last} (log: {log.name})")
    finally:
        parent = image_id(client, buildargs.get("PARENT", "")) or ""
        _remove_stages(client, [s for s in steps if not parent.startswith(f"sha256:{s}")])


def _remove_stages(client: docker.DockerClient, step_ids: list[str]) -> None:
    """Remove the untagged images a multi-stage build left behind.

    The legacy builder keeps each stage's result; the install stage holds
    every wheel and the whole venv twice. Images still in use (parents of
    the final image) refuse removal with 409, which is what we want.
    """
    for short in reversed(step_ids):
        try:
            if client.api.inspect_image(short)["RepoTags"]:
                continue
            client.api.remove_image(short)
        except APIError as exc:
            if exc.status_code not in (404, 409):
                raise


def _chunks(stream: Iterator[dict], ref: str) -> Iterator[dict]:
    try:
        yield from stream
    except (APIError, BuildError) as exc:
        raise ImageBuildFailed(f"building {ref} failed: {exc}") from None


def probe_python(client: docker.DockerClient, ref: str, labels: dict[str, str]) -> dict:
    """Run the image's python3 once (no network) and report version, libc, arch.

    The wheelhouse is downloaded for exactly this interpreter and C library.
    """
    script = (
        "import json,platform,sys;"
        "print(json.dumps({'version':platform.python_version(),"
        "'libc':platform.libc_ver(),'machine':platform.machine(),'abiflags':sys.abiflags}))"
    )
    try:
        out = client.containers.run(
            ref, ["python3", "-c", script], remove=True, network_mode="none", user="1000",
            labels={**labels, "worksample.role": "probe"}, entrypoint=[],
        )
    except DockerException as exc:
        raise ImageBuildFailed(f"{ref}: could not run python3 in it: {exc}") from None
    return json.loads(out.decode().strip().splitlines()[-1])


def tags_with_prefix(client: docker.DockerClient, prefix: str) -> list[str]:
    """Every tag `<prefix>/<name>:<tag>` the engine has."""
    tags = []
    for image in client.api.images(filters={"reference": f"{prefix}/*"}):
        tags += [t for t in image.get("RepoTags") or [] if t.startswith(prefix + "/")]
    return sorted(tags)


def untag(client: docker.DockerClient, tag: str) -> bool:
    """Remove a tag (and the image if it was the last one); False when in use or gone."""
    try:
        client.api.remove_image(tag)
    except APIError as exc:
        if exc.status_code in (404, 409):
            return False
        raise
    return True
