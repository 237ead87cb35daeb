"""Scheduled faults by paid-request index and the call log's logical_hash (issue 10, item 4, mock side)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from worksample.mockllm.calllog import CallLog
from worksample.mockllm.default_oracle import make_oracle
from worksample_grader.logical import logical_hash
from worksample.mockllm.oracle import OracleContext
from worksample.mockllm.profile import ProfileError, parse_profile
from worksample.mockllm.server import MockServer

pytestmark = pytest.mark.timeout(60)
MODELS = [{"id": "m", "input_per_mtok": 1, "output_per_mtok": 2},
          {"id": "e", "input_per_mtok": 0.1, "output_per_mtok": 0, "kind": "embedding", "dimensions": 8}]
AUTH = {"authorization": "Bearer k"}
SCHEDULE = [
    {"at": 2, "kind": "rate_limited", "retry_after_s": 2},
    {"at": 4, "kind": "server_error"},
    {"at": 6, "kind": "overloaded"},
    {"at": 8, "kind": "bad_request"},
    {"at": 10, "kind": "timeout", "stall_s": 0.1},
    {"at": 12, "kind": "malformed_json"},
    {"at": 15, "kind": "outage", "duration_s": 0.4},
]


class Mock:
    def __init__(self, tmp_path: Path, profile: dict) -> None:
        self.profile = parse_profile({"models": MODELS, **profile})
        self.log = tmp_path / "calls.jsonl"
        self.calllog = CallLog(self.log)
        self.server = MockServer(self.profile, self.calllog, make_oracle(OracleContext(task_dir=None, seed=0, models=("m",))))
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.server), base_url="http://mock")

    async def chat(self, content: str, **extra) -> httpx.Response:
        body = {"model": "m", "messages": [{"role": "user", "content": content}], **extra}
        return await self.client.post("/v1/chat/completions", json=body, headers=AUTH)

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
async def mock(tmp_path: Path):
    made = []

    def make(profile: dict) -> Mock:
        made.append(Mock(tmp_path / str(len(made)), profile))
        return made[-1]

    yield make
    for m in made:
        await m.client.aclose()
        m.calllog.close()


# -- the profile ---------------------------------------------------------------

@pytest.mark.parametrize(("entry", "key", "message"), [
    ({"at": 2, "kind": "rate_limited", "retry_afterr": 2}, "scheduled_faults.0.retry_afterr", "unknown key"),
    ({"at": 2, "kind": "meltdown"}, "scheduled_faults.0.kind", "Input should be"),
    ({"at": -1, "kind": "reset"}, "scheduled_faults.0.at", "greater than or equal to 0"),
    ({"at": 1, "kind": "outage"}, "scheduled_faults.0", "an outage needs duration_s"),
    ({"at": 1, "kind": "reset", "retry_after_s": 3}, "scheduled_faults.0", "retry_after_s applies only to kind: rate_limited"),
])
def test_bad_scheduled_fault_names_file_and_field(entry: dict, key: str, message: str) -> None:
    with pytest.raises(ProfileError) as exc:
        parse_profile({"models": MODELS, "scheduled_faults": [entry]}, "profiles/grading.yaml")
    assert str(exc.value).startswith(f"profiles/grading.yaml: {key}: ") and message in str(exc.value)


def test_two_faults_at_one_index_is_an_error() -> None:
    with pytest.raises(ProfileError, match="scheduled_faults: two scheduled_faults at the same index"):
        parse_profile({"models": MODELS, "scheduled_faults": [{"at": 1, "kind": "reset"}, {"at": 1, "kind": "timeout"}]})


def test_every_existing_fault_kind_may_be_scheduled() -> None:
    kinds = ["server_error", "overloaded", "bad_gateway", "timeout", "reset", "malformed_json", "truncated",
             "content_filter", "stream_cut", "stream_error", "rate_limited", "bad_request"]
    profile = parse_profile({"models": MODELS, "scheduled_faults": [{"at": i, "kind": k} for i, k in enumerate(kinds)]})
    assert [f.kind for f in profile.scheduled_faults] == kinds


# -- the schedule on the wire ----------------------------------------------------

async def test_the_agreed_schedule_meets_each_kind_at_its_index(mock) -> None:
    m = mock({"scheduled_faults": SCHEDULE})
    seen = {}
    for i in range(20):
        # JSON is asked for from request 13 on: malformed_json, due at 12, waits for it.
        extra = {"response_format": {"type": "json_object"}} if i >= 13 else {}
        r = await m.chat(f"ticket {i}", **extra)
        seen[i] = r
        if i == 1:  # free calls never count
            assert (await m.client.get("/v1/models", headers=AUTH)).status_code == 200
    calls = [c for c in m.calls() if c["paid_index"] is not None]
    by_index = {c["paid_index"]: c for c in calls}
    assert len(by_index) == 20
    assert seen[2].status_code == 429 and seen[2].headers["retry-after"] == "2" and seen[2].headers["retry-after-ms"] == "2000"
    assert by_index[2]["fault"] == "rate_limit" and by_index[2]["retry_after_s"] == 2
    assert (seen[4].status_code, by_index[4]["fault"]) == (500, "server_error")
    assert (seen[6].status_code, by_index[6]["fault"]) == (503, "overloaded")
    assert (seen[8].status_code, by_index[8]["fault"]) == (400, "bad_request")
    assert by_index[10]["fault"] == "timeout"
    assert by_index[12]["fault"] is None and by_index[13]["fault"] == "malformed_json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(seen[13].json()["choices"][0]["message"]["content"])
    assert all(seen[i].status_code == 503 and by_index[i]["fault"] == "outage" for i in range(15, 20))
    clean = [i for i in range(15) if i not in (2, 4, 6, 8, 10, 13)]
    assert all(seen[i].status_code == 200 and by_index[i]["fault"] is None for i in clean)
    await asyncio.sleep(0.45)  # the outage window is over
    assert (await m.chat("after")).status_code == 200


async def test_scheduled_fault_beats_the_random_draw(mock) -> None:
    m = mock({"faults": [{"kind": "server_error", "rate": 1.0}], "scheduled_faults": [{"at": 1, "kind": "bad_request"}]})
    statuses = [(await m.chat(str(i))).status_code for i in range(3)]
    assert statuses == [500, 400, 500]


async def test_embeddings_count_and_content_faults_wait_for_a_chat(mock) -> None:
    m = mock({"scheduled_faults": [{"at": 0, "kind": "truncated"}, {"at": 2, "kind": "server_error"}]})
    r = await m.client.post("/v1/embeddings", json={"model": "e", "input": "x"}, headers=AUTH)
    assert r.status_code == 200
    r = await m.chat("a long enough question to be cut in the middle of its answer, please")
    assert r.json()["choices"][0]["finish_reason"] == "length"
    r = await m.client.post("/v1/embeddings", json={"model": "e", "input": "y"}, headers=AUTH)
    assert r.status_code == 500
    assert [c["paid_index"] for c in m.calls()] == [0, 1, 2]


async def test_refused_requests_do_not_use_up_the_schedule(mock) -> None:
    m = mock({"rate_limits": {"rpm": 2, "tpm": 1_000_000}, "scheduled_faults": [{"at": 2, "kind": "server_error"}]})
    statuses = [(await m.chat(str(i))).status_code for i in range(4)]
    assert statuses == [200, 200, 429, 429]  # limited before the draw: no paid index, no scheduled fault
    assert [c["paid_index"] for c in m.calls()] == [0, 1, None, None]


# -- logical_hash ---------------------------------------------------------------

def test_logical_hash_ignores_nonces_and_whitespace() -> None:
    base = {"model": "m", "messages": [{"role": "user", "content": "Classify  this\n ticket"}]}
    same = [
        {**base, "user": "nonce-1", "seed": 7, "metadata": {"try": 2}, "temperature": 0.31, "stream": True, "max_tokens": 9},
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": " Classify this ticket "}]}]},
        {**base, "messages": [{"role": "user", "content": "Classify this ticket", "name": "retry-42"}]},
    ]
    assert {logical_hash(b) for b in same} == {logical_hash(base)}
    different = [
        {**base, "model": "m2"},
        {**base, "messages": [{"role": "system", "content": "Classify this ticket"}]},
        {**base, "tools": [{"type": "function", "function": {"name": "f"}}]},
        {**base, "response_format": {"type": "json_object"}},
        {"model": "e", "input": "Classify this ticket"},
    ]
    assert len({logical_hash(b) for b in different} | {logical_hash(base)}) == len(different) + 1


async def test_every_call_line_carries_the_logical_hash(mock) -> None:
    m = mock({})
    await m.chat("same question", user="nonce-a")
    await m.chat("same   question", user="nonce-b", temperature=0.2)
    await m.client.get("/v1/models", headers=AUTH)
    await m.client.post("/v1/chat/completions", content=b"not json", headers=AUTH)
    a, b, models, broken = m.calls()
    assert a["request_hash"] != b["request_hash"] and a["logical_hash"] == b["logical_hash"]
    assert len(a["logical_hash"]) == 64 and broken["logical_hash"] and models["paid_index"] is None


# -- determinism: faults go by (question, attempt), not by arrival order (issue 10, item 7) ----------

RANDOM_FAULTS = {"seed": 11, "faults": [{"kind": "server_error", "rate": 0.2}, {"kind": "overloaded", "rate": 0.1},
                                        {"kind": "malformed_json", "rate": 0.15}, {"kind": "truncated", "rate": 0.1}]}


async def _ask_each_twice(m: Mock, order: list[int]) -> dict[tuple[int, int], tuple]:
    """Ask question q of `order` twice (the second time with another nonce, as a retry would); (q, attempt) → outcome."""
    seen = {}
    for q in order:
        for attempt in range(2):
            r = await m.chat(f"question {q}: is the sky blue?", user=f"nonce-{q}-{attempt}",
                             response_format={"type": "json_object"})
            body = r.json()
            seen[(q, attempt)] = (r.status_code, body["choices"][0]["message"]["content"] if r.status_code == 200 else
                                  body["error"]["type"])
    return seen


async def test_two_arrival_orders_of_the_same_questions_meet_the_same_faults(mock) -> None:
    order = list(range(24))
    forward = await _ask_each_twice(mock(RANDOM_FAULTS), order)
    backward = await _ask_each_twice(mock(RANDOM_FAULTS), order[::-1])
    assert forward == backward
    statuses = {s for s, _ in forward.values()}
    assert {200, 500, 503} <= statuses  # the profile's faults were met, so the comparison means something
    contents = [c for s, c in forward.values() if s == 200]
    assert any(c.startswith("{") and not c.endswith("}") for c in contents)  # content faults too
    assert forward != await _ask_each_twice(mock({**RANDOM_FAULTS, "seed": 12}), order)  # the seed decides them


async def test_concurrent_arrivals_meet_the_same_faults_as_sequential_ones(mock) -> None:
    async def concurrently(m: Mock) -> dict[int, int]:
        rs = await asyncio.gather(*(m.chat(f"ticket {q} text", user=f"n{q}") for q in range(30)))
        return {q: r.status_code for q, r in enumerate(rs)}

    sequential = mock(RANDOM_FAULTS)
    alone = {q: (await sequential.chat(f"ticket {q} text")).status_code for q in reversed(range(30))}
    assert await concurrently(mock(RANDOM_FAULTS)) == alone
    assert set(alone.values()) > {200}


async def test_scheduled_faults_go_by_distinct_question_and_spare_the_retry(mock) -> None:
    m = mock({"scheduled_faults": [{"at": 1, "kind": "rate_limited", "retry_after_s": 1}, {"at": 2, "kind": "server_error"}]})
    out = []
    for content, user in [("q0", "a"), ("q0", "b"), ("q0", "c"), ("q1", "a"), ("q1", "retry"), ("q2", "a"), ("q2", "retry")]:
        out.append((await m.chat(content, user=user)).status_code)
    # Repeats of q0 (nonce retries) do not move the schedule: q1 is the 2nd question, q2 the 3rd;
    # each one's retry gets through.
    assert out == [200, 200, 200, 429, 200, 500, 200]
    calls = m.calls()
    assert [c["attempt"] for c in calls] == [0, 1, 2, 0, 1, 0, 1]
    assert [c["rank"] for c in calls] == [0, None, None, 1, None, 2, None]
