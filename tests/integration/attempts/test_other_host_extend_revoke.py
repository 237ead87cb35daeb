"""An extend or a revoke answered by another API host reaches the pod on the attempt's own host (issue 17).

Two API hosts on one engine, as two hosts behind a proxy sharing one database:
host A is a real `worksample serve` (this test's data dir, the machine's host
name) that started the attempt and runs its pod; host B is a second `serve`
with a data dir of its own and WORKSAMPLE_HOST_NAME=api-host-b, on A's
database. The admin's calls land on B, which cannot reach A's pod (a host
lists only the pods of its own data dir, as it sees only its own engine). A
follows the database:

- A's deadline sweep moves the pod's reaper deadline to the extended deadline,
  and stops the pod of a revoked attempt (and unmounts its workspace) within
  seconds;
- with A's API down, A's worker reaper consults the database before removing
  an attempt's pod: an attempt extended meanwhile keeps its pod past the old
  reaper deadline.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from attempts_harness import Platform, attempt_pods

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(600)]

FOLLOW_S = 30.0  # A's sweep runs every 5 s; generous for a loaded CI host


@dataclass
class OtherHost(Platform):
    """A `serve` that records and owns attempts under another host name."""

    host_name: str = "api-host-b"

    def env(self) -> dict[str, str]:
        """Platform's environment, under this host's name."""
        return {**super().env(), "WORKSAMPLE_HOST_NAME": self.host_name}


def admin_post(platform: Platform, admin: str, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(platform.url + path, json=body, headers={"Authorization": f"Bearer {admin}"}, timeout=60)


def reaper_deadline(attempt_id: str) -> int | None:
    """The reaper deadline of the attempt's pod on host A (this process has A's data dir), or None if none."""
    from worksample.sandbox import default_backend

    pods = list(default_backend().list_pods({"worksample.attempt": attempt_id}))
    return pods[0].deadline if pods else None


def wait_for(condition, what: str, timeout: float = FOLLOW_S) -> None:
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < timeout, f"after {timeout:.0f} s: {what}"
        time.sleep(0.5)


def test_extend_and_revoke_answered_by_another_host_reach_the_pod_on_its_host(
        make_platform, data_dir, tmp_path, redis_url, monkeypatch):
    from worksample.config import get_settings
    from worksample.workspace.deadlines import reap_pods
    from worksample.workspace.pods import POD_GRACE_S

    # One database for both hosts (A's SQLite file, or the --db postgres database already set).
    monkeypatch.setenv("DATABASE_URL", os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'worksample.db'}")
    get_settings.cache_clear()
    host_a, slug = make_platform()
    (tmp_path / "host-b").mkdir()
    host_b = OtherHost(data_dir=tmp_path / "host-b", tasks_dir=host_a.tasks_dir, redis_url=redis_url)
    try:
        host_b.start()
        admin = host_a.admin_token()
        invitation = host_a.invite(admin, slug)
        started, cookie = host_a.start_attempt(invitation["token"])
        attempt_id = started["attempt_id"]
        first = datetime.fromisoformat(started["deadline"]).timestamp()
        assert reaper_deadline(attempt_id) == pytest.approx(first + POD_GRACE_S, abs=2)

        # 1. Extended on B: A's sweep moves the pod's reaper deadline.
        resp = admin_post(host_b, admin, f"/api/v1/attempts/{attempt_id}/extend", {"minutes": 60})
        assert resp.status_code == 200, resp.text
        extended = resp.json()["deadline_ts"]
        assert extended == pytest.approx(first + 3600, abs=1)
        wait_for(lambda: (reaper_deadline(attempt_id) or 0) >= extended + POD_GRACE_S - 1,
                 f"A's pod kept its old reaper deadline {reaper_deadline(attempt_id)} "
                 f"(the attempt's is now {extended:.0f} + {POD_GRACE_S} s)")

        # 2. A's API is down; extended on B again; A's worker reaper runs after the pod's (stale) reaper
        # deadline has passed: it keeps the pod and moves its deadline instead.
        host_a.stop(signal.SIGKILL)
        resp = admin_post(host_b, admin, f"/api/v1/attempts/{attempt_id}/extend", {"minutes": 30})
        assert resp.status_code == 200, resp.text
        again = resp.json()["deadline_ts"]
        stale = reaper_deadline(attempt_id)
        reaped = reap_pods(now=stale + 60)
        assert any(c["State"] == "running" for c in attempt_pods(attempt_id)), f"the extended pod was reaped: {reaped}"
        assert reaper_deadline(attempt_id) >= again + POD_GRACE_S - 1
        host_a.start()
        with host_a.candidate(cookie) as client:
            assert client.get(f"/w/{attempt_id}/api/status").status_code == 200  # the same pod still serves

        # 3. Revoked on B: A's sweep stops the pod and unmounts the workspace (its image, the work, stays).
        resp = admin_post(host_b, admin, f"/api/v1/invitations/{invitation['id']}/revoke")
        assert resp.status_code == 200 and resp.json()["attempt_status"] == "revoked", resp.text
        workspace = data_dir / "attempts" / attempt_id / "workspace"
        wait_for(lambda: attempt_pods(attempt_id) == [] and not os.path.ismount(workspace),
                 f"the revoked attempt's pod or mount is still on A: {attempt_pods(attempt_id)}, "
                 f"mounted {os.path.ismount(workspace)}")
        assert (data_dir / "attempts" / attempt_id / "workspace.img").is_file()
        with host_a.candidate(cookie) as client:
            assert client.get(f"/w/{attempt_id}/api/status").status_code == 410
    except BaseException:
        print(f"--- host B's serve output\n{host_b.output()[-4000:]}")
        raise
    finally:
        host_b.stop()
