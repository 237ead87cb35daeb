"""`worksample up`: the whole platform on one machine, stopped cleanly by Ctrl-C or SIGTERM.

Start order: Redis (embedded unless REDIS_URL), the workers, then the API;
stop order is the reverse (API, workers and their work horses, Redis), each
stopped before the next, and nothing is left running (see supervisor.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from worksample.config import get_settings
from worksample.errors import WorksampleError
from worksample.supervisor import Supervisor, become_subreaper

RUN_FILE = "up.json"  # in the data dir while `up` runs: its pid and public URL (read by config.py)
DEMO_EMAIL = "demo@example.com"


def _preflight() -> None:
    from worksample.health import docker_status

    status = docker_status()
    if status != "ok":
        raise WorksampleError(status)


def public_url(host: str, port: int) -> str:
    """WORKSAMPLE_PUBLIC_URL when set, else the address `up` serves (a wildcard bind: this host's name)."""
    settings = get_settings()
    if "public_url" in settings.model_fields_set:
        return settings.public_url.rstrip("/")
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}"


def served_url(data_dir: Path) -> str | None:
    """The public URL of the `up` running on `data_dir`, or None when none runs there."""
    try:
        info = json.loads((data_dir / RUN_FILE).read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(info["url"])


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


def _start_children(sup: Supervisor, host: str, port: int, public: str, workers: int) -> dict[str, str]:
    """1. Redis (embedded unless REDIS_URL), 2. the workers, 3. the API."""
    from worksample.redis_server import redis_argv, wait_ready

    settings = get_settings()
    data = settings.resolved_data_dir
    logs = data / "logs"
    logs.mkdir(exist_ok=True)
    env = dict(os.environ, WORKSAMPLE_DATA_DIR=str(data), WORKSAMPLE_PUBLIC_URL=public)
    env.setdefault("WORKSAMPLE_WARM_POOL", "1")  # W, issue 17: one warm pod per task under `up`
    # One host: a worker holds jobs back while the engine restarts instead of spending gradings' tries on it.
    env.setdefault("WORKSAMPLE_WORKER_ENGINE_GRACE_S", "120")
    if not settings.redis_url:
        argv, url = redis_argv(data)
        sup.start("redis", argv)
        wait_ready(url)
        env["REDIS_URL"] = url
    me = [sys.executable, "-m", "worksample"]
    for n in range(workers):
        reap = [] if n == 0 else ["--reap-every", "0"]  # one reaper is enough; it is idempotent anyway
        sup.start(f"worker{n + 1}", me + ["worker", *reap], env=env, log=logs / "worker.log", tier="workers")
    sup.start("api", me + ["serve", "--host", host, "--port", str(port)], env=env, log=logs / "api.log")
    return env


def _remove_pods() -> int:
    """Remove every pod on this engine (workspaces stay on disk); return how many."""
    from worksample.sandbox import default_backend

    backend = default_backend()
    pods = list(backend.list_pods())
    for pod in pods:
        backend.remove(pod.id)
    return len(pods)


def _demo_invitation(slug: str) -> str:
    """A fresh demo invite link; the previous unstarted demo invitations are revoked, so one link works."""
    from sqlalchemy import select

    from worksample.db import Attempt, Invitation, session_scope
    from worksample.db.models import utcnow
    from worksample.workspace.invitations import create_invitation

    with session_scope() as db:
        started = select(Attempt.invitation_id)
        for inv in db.scalars(select(Invitation).where(Invitation.candidate_email == DEMO_EMAIL,
                                                       Invitation.revoked_at.is_(None),
                                                       Invitation.id.not_in(started))):
            inv.revoked_at = utcnow()
    return create_invitation(slug, "Demo Candidate", DEMO_EMAIL).url


def _admin_lines(public: str) -> list[str]:
    """How to log in: H4's setup link for admin@localhost on first run, then where to log in."""
    from worksample.accounts import admin_login_lines

    return admin_login_lines(public)


class _StallReporter:
    """Prints the worker watchdog's new stall records on up's console (operators watch it)."""

    def __init__(self, redis_url: str | None) -> None:
        self._url, self._seen, self._next = redis_url, None, 0.0

    def poll(self) -> None:
        if not self._url or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + 2.0
        from redis import Redis

        from worksample.jobs.watchdog import recent_stalls

        try:
            conn = Redis.from_url(self._url, socket_timeout=2)
            stalls = recent_stalls(conn)
            conn.close()
        except Exception:  # Redis restarting: the next poll reports
            return
        if self._seen is None:  # older records were reported by an earlier run
            self._seen = {(s.job_id, s.at) for s in stalls}
        for stall in reversed(stalls):
            if (stall.job_id, stall.at) not in self._seen:
                self._seen.add((stall.job_id, stall.at))
                print(f"WARNING: worker watchdog: job {stall.job_id} ({stall.description}) made no progress for "
                      f"{stall.silent_s:.0f} s (stage {stall.stage}); its work horse was killed and the job is "
                      f"retried. See var/logs/worker.log", file=sys.stderr, flush=True)


def run_up(host: str, port: int, workers: int | None = None) -> None:
    """Start, print how to reach the platform, wait for a signal, stop everything."""
    from worksample.db import migrate

    try:
        from worksample.catalog.sync import sync_catalog
    except ImportError:  # before the catalog sync moved out of workspace/
        from worksample.catalog.sync import sync_catalog

    _preflight()
    migrate()
    slugs = sync_catalog()
    stop = {"signal": None}

    def _on_signal(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    become_subreaper()
    public = public_url(host, port)
    os.environ["WORKSAMPLE_PUBLIC_URL"] = public  # links made here (demo invite, setup link) and by children
    get_settings.cache_clear()
    run_file = get_settings().resolved_data_dir / RUN_FILE
    sup = Supervisor()
    try:
        env = _start_children(sup, host, port, public, workers or os.cpu_count() or 1)
        local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(host, host)
        _wait_http(f"http://{local}:{port}/healthz", sup)
        run_file.write_text(json.dumps({"pid": os.getpid(), "url": public}))
        print(f"worksample is up at {public}", flush=True)
        for line in _admin_lines(public):
            print(line, flush=True)
        if slugs:
            print(f"demo invite ({slugs[0]}): {_demo_invitation(slugs[0])}", flush=True)
        stalls = _StallReporter(env.get("REDIS_URL"))
        while stop["signal"] is None and not sup.dead():
            stalls.poll()
            time.sleep(0.2)
        if sup.dead():
            print(f"stopping: a platform process exited: {sup.dead()}", file=sys.stderr, flush=True)
    finally:
        print("stopping…", flush=True)
        run_file.unlink(missing_ok=True)
        forced, took = sup.stop()
        if forced:
            print(f"had to force: {', '.join(forced)}", file=sys.stderr, flush=True)
        began = time.monotonic()
        removed = _remove_pods()
        print(f"stopped {', '.join(took)}; removed {removed} sandbox pods in {time.monotonic() - began:.1f} s",
              flush=True)
    # Nothing is left to flush: skip interpreter teardown, seconds for ~800 modules on a busy host.
    os._exit(0)
