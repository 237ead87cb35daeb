"""A real, throwaway redis-server for tests and benches: a unix socket in a folder, no TCP port, no persistence.

The `redis_url` fixture, the API fuzz test, bench/grading_throughput.py and bench/webhooks.py start theirs here
(`worksample up` runs its own, persistent one: worksample.redis_server).
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """Start redis-server on `folder`/r.sock with `folder` as its directory and wait until it answers
    PING; the process (the caller stops it) and its URL. Killed again if it never answers."""
    from worksample.redis_server import wait_ready

    sock = folder / "r.sock"
    proc = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(sock), "--save", "",
                             "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    url = f"unix://{sock}"
    try:
        wait_ready(url)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc, url
