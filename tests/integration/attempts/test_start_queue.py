"""A hiring event on one host (issues 13, 17): Starts pressed at once wait for one of the host's cold-start slots
(WORKSAMPLE_START_CONCURRENCY) instead of racing for the CPU, and none fails; the browser's Start answers at
once and its page shows the line; each attempt's clock starts when its workspace answers, not while it waits."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest

from attempts_harness import PROBE_CODE, attempt_pods
from kernel_ws import new_kernel, run_cell

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(420)]


def ready_event(platform, admin: str, attempt_id: str) -> dict:
    """The attempt's `workspace_ready` activity event (when its first pod answered, how long it waited)."""
    events = httpx.get(f"{platform.url}/api/v1/attempts/{attempt_id}/activity",
                       headers={"Authorization": f"Bearer {admin}"}, timeout=30).json()["events"]
    found = [e for e in events if e["kind"] == "workspace_ready"]
    assert len(found) == 1, events
    return found[0]


def created_at(attempt_id: str) -> float:
    """When Docker created the attempt's first container (unix seconds)."""
    ids = [c["ID"] for c in attempt_pods(attempt_id)]
    out = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True).stdout
    stamps = [c["Created"] for c in json.loads(out)]
    return min(datetime.fromisoformat(s[:26].rstrip("Z") + "+00:00").timestamp() for s in stamps)


def wait_started(platform, tokens: list[str], timeout: float = 60) -> None:
    """Block until each invitation's landing page offers Continue (its attempt exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(">Continue<" in httpx.get(f"{platform.url}/c/{t}", timeout=30).text for t in tokens):
            return
        time.sleep(0.1)
    raise AssertionError(f"the Starts did not create their attempts in {timeout}s")


def wait_workspace_ready(client: httpx.Client, attempt_id: str, timeout: float = 300) -> list[dict]:
    """Poll the attempt's state as the workspace page does until its workspace is ready; every state seen."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/attempts/{attempt_id}").json()
        seen.append(state)
        if state["workspace"]["state"] == "ready":
            return seen
        assert state["workspace"]["state"] in ("queued", "starting"), state
        time.sleep(0.3)
    raise AssertionError(f"workspace not ready in {timeout}s: {seen[-1]}")


def test_starts_at_once_take_turns_all_succeed_and_the_clock_waits_for_the_workspace(make_platform, monkeypatch):
    monkeypatch.setenv("WORKSAMPLE_START_CONCURRENCY", "1")
    platform, slug = make_platform(time_limit="30m")
    admin = platform.admin_token()
    tokens = [platform.invite(admin, slug, name=f"Candidate {n}")["token"] for n in range(3)]

    # Two Starts through the API (they answer once JupyterLab does), then a browser's Start behind them.
    with ThreadPoolExecutor(2) as pool:
        api = [pool.submit(platform.start_attempt, token) for token in tokens[:2]]
        wait_started(platform, tokens[:2])
        time.sleep(0.5)  # both in line (a cold start takes seconds: the first still holds the one slot)
        t0 = time.monotonic()
        form = httpx.post(f"{platform.url}/c/{tokens[2]}/start", follow_redirects=False, timeout=60)
        answered_s = time.monotonic() - t0
        assert form.status_code == 303, form.text
        assert answered_s < 10  # not held behind two cold starts: the workspace page shows the wait
        attempt_id, cookie = form.headers["location"].split("/")[2], form.cookies["ws_attempt"]
        with platform.candidate(cookie) as client:
            page = client.get(f"/w/{attempt_id}/")
            assert page.status_code == 200 and 'id="lab-queue"' in page.text
            assert "Your clock starts when your workspace is ready" in page.text
            seen = wait_workspace_ready(client, attempt_id)
        started = [f.result() for f in api]

    first = seen[0]
    assert first["workspace"]["state"] == "queued" and first["workspace"]["position"] in (1, 2), first
    assert first["workspace"]["estimate_s"] > 0 and first["clock_started"] is False
    assert seen[-1]["clock_started"] is True
    ids = [body["attempt_id"] for body, _ in started] + [attempt_id]

    # Never more than one pod in cold start at once, and no pod made before its turn.
    events = {i: ready_event(platform, admin, i) for i in ids}
    spans = sorted((e["ts"] - e["start_s"], e["ts"], i) for i, e in events.items())
    assert all(events[i]["cold"] for i in ids)
    for (_, end, _), (begin, _, _) in zip(spans, spans[1:]):
        assert begin >= end - 0.01, spans
    for begin, end, i in spans:
        assert begin - 1.0 <= created_at(i) <= end, (i, begin, end)
    assert events[attempt_id]["queued_s"] > 1.0  # the browser's Start did wait its turn

    # Every attempt works, and its clock started when its workspace answered: the full 30 minutes from then.
    for (body, cookie_i), i in zip([*started, (None, cookie)], ids):
        with platform.candidate(cookie_i) as client:
            assert client.get(f"/w/{i}/api/status").status_code == 200
            state = client.get(f"/api/v1/attempts/{i}").json()
        started_at = datetime.fromisoformat(state["started_at"]).timestamp()
        assert started_at == pytest.approx(events[i]["ts"], abs=1.5), (state, events[i])
        assert state["deadline_ts"] - started_at == pytest.approx(30 * 60, abs=1)
        if body is not None:
            assert body["deadline"] == state["deadline"]  # the API's Start answered with the final deadline
    assert started_at >= max(events[i]["ts"] for i in ids[:2]) - 0.01  # not while it waited behind the others
    with platform.candidate(cookie) as client:
        kernel = new_kernel(client, attempt_id)
    output = run_cell(platform, cookie, attempt_id, kernel, PROBE_CODE, "call-mock")
    assert "MOCK-OK atlas-mini True" in output, output
