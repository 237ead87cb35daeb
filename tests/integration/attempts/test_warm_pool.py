"""The warm pool (issue 17): Start claims a pod started ahead, binds it to the attempt, the pool refills,
two Starts racing for one pool pod never share it (the loser gets a cold pod), a restart reaps what a
crashed platform left, and an attempt pinned to another host is refused with the host named."""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from attempts_harness import PROBE_CODE, Platform, attempt_pods
from kernel_ws import new_kernel, run_cell

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(420)]


def ready_ids(data_dir: Path) -> set[str]:
    """Reserved attempt ids of the pool's ready pods."""
    return {p.name.split(".")[1] for p in (data_dir / "pool" / "ready").glob("*.json")}


def wait_ready(data_dir: Path, count: int, platform: Platform, timeout: float = 240,
               old: frozenset[str] = frozenset()) -> set[str]:
    """Block until the pool holds `count` ready pods and none of `old`; their reserved ids."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready_ids(data_dir)
        if len(found) >= count and not found & old:
            return found
        time.sleep(0.2)
    raise AssertionError(f"pool has {ready_ids(data_dir)} after {timeout}s: {platform.output()[-3000:]}")


def pod_ids(attempt_id: str) -> set[str]:
    """Pod ids (label worksample.pod) of the attempt's containers."""
    return {label.split("=", 1)[1] for c in attempt_pods(attempt_id) for label in c["Labels"].split(",")
            if label.startswith("worksample.pod=")}


def test_claim_bind_refill_restart(make_platform, data_dir, monkeypatch):
    monkeypatch.setenv("WORKSAMPLE_WARM_POOL", "1")
    platform, slug = make_platform()
    admin = platform.admin_token()
    tokens = [platform.invite(admin, slug, name=f"Candidate {n}")["token"] for n in range(2)]  # syncs the catalog
    pooled = wait_ready(data_dir, 1, platform)
    records = {i: json.loads(next((data_dir / "pool" / "ready").glob(f"*.{i}.json")).read_text()) for i in pooled}

    # Two Starts race for a pool of one: exactly one claims the pool pod, the other gets a cold pod.
    with ThreadPoolExecutor(2) as pool:
        started = list(pool.map(platform.start_attempt, tokens))
    ids = [body["attempt_id"] for body, _ in started]
    assert len(set(ids)) == 2 and len(set(ids) & pooled) == 1, (ids, pooled)
    for attempt_id in ids:
        assert len(pod_ids(attempt_id)) == 1  # exactly one pod serves each attempt
    for attempt_id in set(ids) & pooled:
        assert pod_ids(attempt_id) == {records[attempt_id]["pod_id"]}  # the pool's pod, not a new one

    # The claimed pod is the attempt's: its starter files, its API key (the mock answers), its deadline.
    body, cookie = next(s for s in started if s[0]["attempt_id"] in pooled)
    attempt_id = body["attempt_id"]
    with platform.candidate(cookie) as client:
        assert "probe.ipynb" in client.get(f"/w/{attempt_id}/api/contents").text
        kernel = new_kernel(client, attempt_id)
        output = run_cell(platform, cookie, attempt_id, kernel, PROBE_CODE, "call-mock")
        assert "MOCK-OK atlas-mini True" in output, output
    from worksample.config import get_settings
    from worksample.sandbox import default_backend
    from worksample.workspace.pods import reap_after

    get_settings.cache_clear()
    deadline = datetime.fromisoformat(body["deadline"])
    [info] = default_backend().list_pods({"worksample.attempt": attempt_id})
    assert info.deadline == reap_after(deadline)  # moved from the pool's deadline to the attempt's
    assert list((data_dir / "pool" / "claimed").glob("*.json")) == []  # every claim was adopted

    # The pool refills in the background with new reservations.
    refilled = wait_ready(data_dir, 1, platform)
    assert not refilled & set(ids)

    # An attempt pinned to another host is refused with that host named, not proxied.
    from worksample.db import Attempt, session_scope

    with session_scope() as db:
        db.get(Attempt, attempt_id).host = "api-host-b"
    with platform.candidate(cookie) as client:
        misrouted = client.get(f"/w/{attempt_id}/api/contents")
    assert misrouted.status_code == 421 and "api-host-b" in misrouted.json()["detail"], misrouted.text

    # A crash leaves the ready pods and their workspaces; the next start reaps them and fills anew.
    platform.stop(signal.SIGKILL)
    left = ready_ids(data_dir)
    assert left == refilled and all(pod_ids(i) for i in left)
    again = Platform(data_dir=data_dir, tasks_dir=platform.tasks_dir, redis_url=platform.redis_url)
    again.start()
    try:
        wait_ready(data_dir, 1, again, old=frozenset(left))  # the sweep removed the leftovers' records
        for reserved in left:
            assert pod_ids(reserved) == set(), reserved
            assert not (data_dir / "attempts" / reserved).exists()
        assert all(pod_ids(i) for i in ids)  # the candidates' pods are untouched
        other, other_cookie = next((b["attempt_id"], c) for b, c in started if b["attempt_id"] != attempt_id)
        with httpx.Client(base_url=again.url, cookies={"ws_attempt": other_cookie}, timeout=60) as client:
            assert client.get(f"/w/{other}/api/contents").status_code == 200  # the new API proxies it
    finally:
        again.stop()
    assert not [p for p in (data_dir / "attempts").glob("*/workspace") if os.path.ismount(p)
                and p.parent.name not in ids], "a pool workspace is still mounted after a clean stop"
