"""The embedded redis-server `worksample up` runs when REDIS_URL is unset.

It listens on a unix socket under the data dir only (no TCP port to clash or
to expose) and keeps an append-only file so queued jobs survive a restart.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from redis import Redis

from worksample.errors import RedisUnavailable


def redis_argv(data_dir: Path) -> tuple[list[str], str]:
    """The redis-server command line and the URL clients use to reach it."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RedisUnavailable("redis-server is not installed; run `make up` (as root it installs it) or `apt-get install redis-server`")
    rdir = data_dir / "redis"
    rdir.mkdir(parents=True, exist_ok=True)
    sock = rdir / "redis.sock"
    argv = [
        binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
        "--dir", str(rdir), "--appendonly", "yes", "--save", "", "--daemonize", "no",
        "--logfile", str(rdir / "redis.log"),
    ]
    return argv, f"unix://{sock}"


def wait_ready(url: str, timeout: float = 10.0) -> None:
    """Block until the server at `url` answers PING, or raise RedisUnavailable."""
    deadline = time.monotonic() + timeout
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        while True:
            try:
                client.ping()
                return
            except Exception as exc:  # not listening yet
                if time.monotonic() > deadline:
                    raise RedisUnavailable(f"embedded redis-server did not start at {url}: {exc}") from exc
                time.sleep(0.05)
    finally:
        client.close()
