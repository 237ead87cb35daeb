"""Issue 11.2: the mock's logs against its own file-size limit.

The mock runs as in a pod: under an RLIMIT_FSIZE (here 512 KiB, via prlimit).
Filling bodies.jsonl used to turn every later request into a 500; filling
calls.jsonl let answers out with no log line. Now the log enters an explicit
"log full" state: a `log_full` record in calls.jsonl, `log_full.json` beside
it, and a 507 refusal (code `log_full`) for everything after, never an
answer without its line.
"""

from __future__ import annotations

import json
import sys

import httpx
import pytest

AUTH = {"authorization": "Bearer sk-test"}
FSIZE = 512 * 1024
PRLIMIT = ["prlimit", f"--fsize={FSIZE}", sys.executable, "-m", "worksample.mockllm"]

pytestmark = pytest.mark.timeout(120)


def _post(client: httpx.Client, server, content: str) -> httpx.Response:
    return client.post(server.base_url + "/chat/completions", headers=AUTH,
                       json={"model": "atlas-mini", "messages": [{"role": "user", "content": content}]})


def _check_full_state(server, statuses: list[int], reason: str) -> None:
    calls = server.calls()
    marker = [c for c in calls if c["request_id"] == "log_full"]
    assert len(marker) == 1 and marker[0]["fault"] == "log_full" and reason in marker[0]["reason"]
    state = json.loads((server.log_path.parent / "log_full.json").read_text())
    assert reason in state["reason"] and state["cap_bytes"] <= FSIZE
    assert 500 not in statuses
    # Every answer the client got has its line: no answer without evidence.
    assert statuses.count(200) == sum(1 for c in calls if c["status"] == 200)
    for name in ("calls.jsonl", "bodies.jsonl"):
        assert (server.log_path.parent / name).stat().st_size <= FSIZE
    # Every line is whole JSON (nothing cut at the size limit).
    for name in ("calls.jsonl", "bodies.jsonl"):
        for line in (server.log_path.parent / name).read_text().splitlines():
            json.loads(line)


def test_full_bodies_log_is_an_explicit_state_not_500s(mock) -> None:
    server = mock(argv0=PRLIMIT)
    statuses = []
    with httpx.Client(timeout=10) as client:
        for i in range(40):  # 40 bodies of 60 KiB: 2.4 MiB, past the 512 KiB limit
            r = _post(client, server, "pad " * 15_000 + str(i))
            statuses.append(r.status_code)
        last = _post(client, server, "small")
    assert statuses[0] == 200 and statuses[-1] == 507
    assert last.status_code == 507 and last.json()["error"]["code"] == "log_full"
    _check_full_state(server, statuses, "bodies.jsonl")


def test_full_calls_log_never_answers_without_a_line(mock) -> None:
    server = mock(argv0=PRLIMIT)
    statuses = []
    with httpx.Client(timeout=10) as client:
        for i in range(2500):  # ~2500 lines of ~450 bytes: past the 512 KiB limit
            statuses.append(_post(client, server, str(i)).status_code)
            if statuses[-1] == 507 and len(statuses) % 50 == 0:
                break
    assert statuses[0] == 200 and statuses[-1] == 507
    _check_full_state(server, statuses, "calls.jsonl")
