"""`worksample up`: the whole platform on one machine, stopped cleanly by Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import time

import httpx

from worksample.config import get_settings
from worksample.errors import WorksampleError
from worksample.supervisor import Supervisor


def _preflight() -> None:
    from worksample.health import docker_status

    status = docker_status()
    if status != "ok":
        raise WorksampleError(status)


def _wait_http(url: str, sup: Supervisor, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sup.dead():
            raise WorksampleError(f"a platform process exited during start-up: {sup.dead()}; see var/logs/")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise WorksampleError(f"the API did not answer at {url} within {timeout:.0f} s; see var/logs/api.log")


def _start_children(sup: Supervisor, host: str, port: int) -> dict[str, str]:
    """1. Redis (embedded unless REDIS_URL), 2. the API, 3. one worker."""
    from worksample.redis_server import redis_argv, wait_ready

    settings = get_settings()
    data = settings.resolved_data_dir
    logs = data / "logs"
    logs.mkdir(exist_ok=True)
    env = dict(os.environ)
    if not settings.redis_url:
        argv, url = redis_argv(data)
        sup.start("redis", argv)
        wait_ready(url)
        env["REDIS_URL"] = url
    env["WORKSAMPLE_DATA_DIR"] = str(data)
    me = [sys.executable, "-m", "worksample"]
    sup.start("api", me + ["serve", "--host", host, "--port", str(port)], env=env, log=logs / "api.log")
    sup.start("worker", me + ["worker"], env=env, log=logs / "worker.log")
    return env


def _remove_pods() -> int:
    """Remove every pod on this engine (workspaces stay on disk); return how many."""
    from worksample.sandbox import default_backend

    backend = default_backend()
    pods = list(backend.list_pods())
    for pod in pods:
        backend.remove(pod.id)
    return len(pods)


def run_up(host: str, port: int) -> None:
    """Start, print how to reach the platform, wait for a signal, stop everything."""
    from worksample.accounts import create_token
    from worksample.db import migrate
    from worksample.db.models import Role

    _preflight()
    migrate()
    from worksample.catalog.sync import sync_catalog

    slugs = sync_catalog()
    stop = {"signal": None}

    def _on_signal(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    sup = Supervisor()
    try:
        _start_children(sup, host, port)
        url = f"http://{host}:{port}"
        _wait_http(url + "/healthz", sup)
        print(f"worksample is up at {url}", flush=True)
        print(f"admin token: {create_token(Role.admin, 'admin')}", flush=True)
        if slugs:
            from worksample.workspace.invitations import create_invitation

            demo = create_invitation(slugs[0], "Demo Candidate", "demo@example.com")
            print(f"demo invite ({slugs[0]}): {url}/c/{demo.token}", flush=True)
        while stop["signal"] is None and not sup.dead():
            time.sleep(0.2)
        if sup.dead():
            print(f"stopping: a platform process exited: {sup.dead()}", file=sys.stderr, flush=True)
    finally:
        print("stopping…", flush=True)
        sup.stop()
        removed = _remove_pods()
        print(f"stopped (removed {removed} sandbox pods)", flush=True)
