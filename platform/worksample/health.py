"""What /healthz and `worksample doctor` report: each dependency as 'ok' or why not."""

from __future__ import annotations

import os
import socket

import httpx

from worksample.config import get_settings
from worksample.db import database_status
from worksample.jobs import redis_status


def _ping_unix(path: str) -> int:
    # httpcore leaks the socket when a unix connect fails, so speak HTTP/1.0 by hand.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        sock.connect(path)
        sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        head = sock.recv(64).decode("latin-1")
    return int(head.split()[1])


def docker_status() -> str:
    """'ok' when the Docker engine answers `/_ping`, else the reason.

    Uses the engine's HTTP API directly (no `docker` import outside sandbox/).
    """
    host = get_settings().docker_host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        if host.startswith("unix://"):
            code = _ping_unix(host.removeprefix("unix://"))
        else:
            code = httpx.get(host.replace("tcp://", "http://") + "/_ping", timeout=3).status_code
    except (OSError, ValueError, IndexError, httpx.HTTPError) as exc:
        return f"Docker engine not reachable at {host} ({type(exc).__name__}); start dockerd or run `make up`"
    return "ok" if code == 200 else f"Docker engine at {host} answered {code}"


def health() -> dict[str, str]:
    """Every dependency's status; all 'ok' means healthy."""
    return {"database": database_status(), "redis": redis_status(), "docker": docker_status()}
