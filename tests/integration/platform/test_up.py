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
from worksample.supervisor import descendants

VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        if line.startswith("demo invite"):  # the last line up prints before it waits
            return lines
    pytest.fail("worksample up did not come up:\n" + "".join(lines))


def _redis(tmp_path: Path):
    from redis import Redis

    return Redis.from_url(f"unix://{tmp_path / 'data' / 'redis' / 'redis.sock'}")


@pytest.mark.docker
@pytest.mark.timeout(180)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_up_serves_and_stops_everything(tmp_path, sig, monkeypatch):
    from rq import Queue
    from rq.job import JobStatus

    port = _free_port()
    proc = _start_up(tmp_path, port)
    try:
        lines = _wait_up(proc)
        assert any(line.startswith("admin setup link (one-time, 72 h): http") for line in lines), lines
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status_code == 200, health.text
        assert health.json() == {"ok": True, "database": "ok", "redis": "ok", "docker": "ok"}
        # A job hanging in a work horse while up is stopped (defect 2: it outlived up, with parent 1).
        job = Queue("grading", connection=_redis(tmp_path)).enqueue("time.sleep", 600)
        deadline = time.monotonic() + 30
        while job.get_status(refresh=True) != JobStatus.STARTED and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job.get_status() == JobStatus.STARTED
        time.sleep(1)
        children = descendants(proc.pid)
        names = {Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0].decode() for p in children}
        assert any("redis-server" in n for n in names), names
        assert len(children) >= 4  # redis, api, worker, its work horse
        # A pod belongs to the platform whose data dir made it (engines can be shared): make it in up's.
        monkeypatch.setenv("WORKSAMPLE_DATA_DIR", str(tmp_path / "data"))
        get_settings.cache_clear()
        pod = create_pod(PodSpec(command=["sleep", "600"], labels={"worksample.test": "1"}))
        sent = time.monotonic()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "stopped" in out and "had to force" not in out, out
        assert time.monotonic() - sent < 10, out
        assert not [p for p in children if _alive(p)], [Path(f"/proc/{p}/cmdline").read_bytes() for p in children
                                                         if _alive(p)]
        assert not (tmp_path / "data" / "redis" / "redis.sock").exists()
        assert not (tmp_path / "data" / "up.json").exists()
        assert pod.id not in {p.id for p in default_backend().list_pods()}
        worker_log = (tmp_path / "data" / "logs" / "worker.log").read_text()
        assert "Traceback" not in worker_log and "ConnectionError" not in worker_log, worker_log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        get_settings.cache_clear()


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out


@pytest.mark.docker
@pytest.mark.timeout(240)
def test_up_links_name_its_port_and_a_restart_replaces_old_links(tmp_path, monkeypatch):
    from worksample.workspace.invitations import InvitationState, view_invitation

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "WORKSAMPLE_PUBLIC_URL")}
    env["WORKSAMPLE_DATA_DIR"] = str(tmp_path / "data")
    proc = _start_up(tmp_path, port)
    try:
        first = "".join(_wait_up(proc))
        assert f"worksample is up at {base}" in first
        demo1 = first.split("demo invite")[1].split(": ", 1)[1].split()[0]
        setup1 = first.split("admin setup link (one-time, 72 h): ")[1].split()[0]
        assert demo1.startswith(f"{base}/c/") and setup1.startswith(f"{base}/account/setup/"), first
        # The CLI, run beside up without any setting, names up's port too; so does the API.
        cli = subprocess.run([str(VENV_BIN / "worksample"), "invite", "support-ticket-triage", "--name", "Ann",
                              "--email", "ann@example.com"], env=env, capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0 and f"url: {base}/c/" in cli.stdout, cli.stdout + cli.stderr
        made = subprocess.run([str(VENV_BIN / "worksample"), "token", "create", "--role", "reviewer"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        api = httpx.post(f"{base}/api/v1/invitations", headers={"Authorization": f"Bearer {token}"},
                         json={"task": "support-ticket-triage", "candidate": {"name": "Bo", "email": "bo@example.com"}})
        assert api.status_code == 201 and api.json()["url"].startswith(f"{base}/c/"), api.text
        _stop(proc)

        proc = _start_up(tmp_path, port)
        second = "".join(_wait_up(proc))
        demo2 = second.split("demo invite")[1].split(": ", 1)[1].split()[0]
        assert demo2 != demo1
        assert httpx.get(demo1).status_code == 410  # the first run's demo link stopped working
        assert httpx.get(demo2).status_code == 200
        setup2 = second.split("admin setup link (one-time, 72 h): ")[1].split()[0]
        assert httpx.get(setup1).status_code == 410 and httpx.get(setup2).status_code == 200  # one live link
        monkeypatch.setenv("WORKSAMPLE_DATA_DIR", str(tmp_path / "data"))
        get_settings.cache_clear()
        assert view_invitation(demo1.rsplit("/", 1)[1]).state is InvitationState.revoked
        assert view_invitation(cli.stdout.split("url: ")[1].strip().rsplit("/", 1)[1]).state is InvitationState.open
    finally:
        if proc.poll() is None:
            _stop(proc)
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
