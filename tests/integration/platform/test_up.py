"""`worksample up` runs everything and leaves nothing behind when stopped."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from worksample.config import get_settings
from worksample.sandbox import PodSpec, create_pod, default_backend

VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start_up(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["WORKSAMPLE_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.Popen([str(VENV_BIN / "worksample"), "up", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_up(proc: subprocess.Popen, timeout: float = 60) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "worksample is up at" in line:
            lines.append(proc.stdout.readline())
            return lines
    pytest.fail("worksample up did not come up:\n" + "".join(lines))


@pytest.mark.docker
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_up_serves_and_stops_everything(tmp_path, sig, monkeypatch):
    port = _free_port()
    proc = _start_up(tmp_path, port)
    try:
        lines = _wait_up(proc)
        assert any(line.startswith("admin token: wst_") for line in lines)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status_code == 200, health.text
        assert health.json() == {"ok": True, "database": "ok", "redis": "ok", "docker": "ok"}
        children = _children(proc.pid)
        names = {Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0].decode() for p in children}
        assert any("redis-server" in n for n in names), names
        assert len(children) >= 3  # redis, api, worker
        # A pod belongs to the platform whose data dir made it (engines can be shared): make it in up's.
        monkeypatch.setenv("WORKSAMPLE_DATA_DIR", str(tmp_path / "data"))
        get_settings.cache_clear()
        pod = create_pod(PodSpec(command=["sleep", "600"], labels={"worksample.test": "1"}))
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "stopped" in out
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in children if _alive(p)]
        assert not (tmp_path / "data" / "redis" / "redis.sock").exists()
        assert pod.id not in {p.id for p in default_backend().list_pods()}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        get_settings.cache_clear()


def test_up_without_docker_says_which_and_what_to_run(tmp_path):
    env = dict(os.environ, WORKSAMPLE_DATA_DIR=str(tmp_path), DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    res = subprocess.run([str(VENV_BIN / "worksample"), "up", "--port", str(_free_port())], env=env,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0
    assert "Docker engine not reachable" in res.stderr and "dockerd" in res.stderr


def test_worker_without_redis_says_which_and_what_to_run(tmp_path):
    env = dict(os.environ, WORKSAMPLE_DATA_DIR=str(tmp_path), REDIS_URL=f"unix://{tmp_path}/none.sock")
    res = subprocess.run([str(VENV_BIN / "worksample"), "worker"], env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0, res.stderr
    assert "Redis is not reachable" in res.stderr and "worksample up" in res.stderr
