"""A restart of the mock on the same log dir keeps the run's history (issue 9, weak test).

An attempt's pod is stopped and resumed, and the log dir outlives the mock:
the budget already spent, the rate-limit buckets, the request indices and the
"log full" state must survive, or a resumed attempt gets a fresh budget.
"""

from __future__ import annotations

import json

import httpx
import pytest

AUTH = {"authorization": "Bearer sk-test"}
BODY = {"model": "atlas-pro", "messages": [{"role": "user", "content": "Summarise the refund policy, please."}]}

pytestmark = pytest.mark.timeout(120)


def _post(server) -> httpx.Response:
    return httpx.post(server.base_url + "/chat/completions", json=BODY, headers=AUTH, timeout=10)


def test_restart_keeps_the_budget_spent(mock) -> None:
    first = mock({"budget_usd": 0.001})
    statuses = [_post(first).status_code for _ in range(8)]
    assert statuses[-1] == 429 and first.calls()[-1]["fault"] == "insufficient_quota"
    spent = sum(c["cost_usd"] for c in first.calls())
    first.stop()
    again = mock(first.profile_path, log_path=first.log_path)
    r = _post(again)
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota", f"spent {spent} before the restart"


def test_restart_keeps_the_rate_limit_state(mock) -> None:
    first = mock({"rate_limits": {"rpm": 3, "tpm": 1_000_000}})
    assert [_post(first).status_code for _ in range(3)] == [200, 200, 200]
    first.stop()
    again = mock(first.profile_path, log_path=first.log_path)
    r = _post(again)
    assert r.status_code == 429 and again.calls()[-1]["fault"] == "rate_limit"
    assert r.headers["x-ratelimit-remaining-requests"] == "0"


def test_restart_continues_request_indices_and_paid_count(mock) -> None:
    first = mock()
    for _ in range(3):
        _post(first)
    first.stop()
    stopped = json.loads((first.log_path.parent / "mock.json").read_text())["stopped"]
    assert stopped["reason"] == "signal" and stopped["exit_status"] == 143
    again = mock(first.profile_path, log_path=first.log_path)
    _post(again)
    calls = again.calls()
    assert [c["paid_index"] for c in calls] == [0, 1, 2, 3]
    # The same question four times: its attempts continue, so its seeded faults do not start over.
    assert [c["attempt"] for c in calls] == [0, 1, 2, 3] and [c["rank"] for c in calls] == [0, None, None, None]
    assert len({c["request_id"] for c in calls}) == 4
    state = (first.log_path.parent / "mock.json").read_text()
    assert '"starts": 2' in state


def test_restart_keeps_the_log_full_state(mock) -> None:
    import sys

    prlimit = ["prlimit", f"--fsize={512 * 1024}", sys.executable, "-m", "worksample.mockllm"]
    first = mock(argv0=prlimit)
    big = {"model": "atlas-mini", "messages": [{"role": "user", "content": "pad " * 15_000}]}
    for _ in range(20):
        if httpx.post(first.base_url + "/chat/completions", json=big, headers=AUTH, timeout=10).status_code == 507:
            break
    first.stop()
    again = mock(first.profile_path, log_path=first.log_path, argv0=prlimit)
    r = _post(again)
    assert r.status_code == 507 and r.json()["error"]["code"] == "log_full"
