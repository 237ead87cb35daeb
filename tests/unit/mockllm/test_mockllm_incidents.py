"""Incidents and outages meet the same requests whatever the clock says (issue 10: identical regrades).

A grading pod's notebook makes its first call after the pod, the kernel and
the imports have started: seconds on an idle host, tens of seconds on a
loaded one; and a loaded host paces the calls more slowly. Here a fake clock
stands in for both: the same client (ask each question, retry it until it
is answered) runs once on an idle host (first call at once, 10 ms between
calls) and once on a loaded one (first call 25 s after the mock started,
2 s between calls). Every request must meet the same outcome in both.
"""

from __future__ import annotations

import json
import time
import types
from pathlib import Path

import httpx
import pytest
import yaml

from worksample.mockllm import admission, billing, exchange, responses, server
from worksample.mockllm.calllog import CallLog
from worksample.mockllm.default_oracle import make_oracle
from worksample.mockllm.oracle import OracleContext
from worksample.mockllm.profile import ProfileError, parse_profile
from worksample.mockllm.server import MockServer

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[3]
FLAGSHIP = REPO / "tasks" / "support-ticket-triage" / "profiles" / "grading.yaml"
MODELS = [{"id": "m", "input_per_mtok": 1, "output_per_mtok": 2}]
AUTH = {"authorization": "Bearer k"}


class FakeClock:
    """time.time/monotonic shifted by `offset` seconds, which a test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    stand_in = types.SimpleNamespace(time=fake.time, monotonic=fake.monotonic, sleep=time.sleep,
                                     perf_counter=time.perf_counter)
    for module in (server, admission, exchange, responses, billing):
        monkeypatch.setattr(module, "time", stand_in)
    return fake


def flagship_profile() -> dict:
    """The flagship's grading profile without latency and with short stalls (the faults and their places kept)."""
    data = yaml.safe_load(FLAGSHIP.read_text())
    data.pop("latency", None)
    for fault in data.get("faults", []) + data.get("scheduled_faults", []):
        if fault.get("kind") == "timeout":
            fault["stall_s"] = 0.01
    return data


def make_mock(tmp_path: Path, profile: dict, name: str) -> tuple[MockServer, httpx.AsyncClient, Path]:
    log = tmp_path / name / "calls.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    parsed = parse_profile(profile)
    models = tuple(m.id for m in parsed.models)
    mock = MockServer(parsed, CallLog(log), make_oracle(OracleContext(task_dir=None, seed=0, models=models)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), base_url="http://mock")
    return mock, client, log


async def patient_client(client: httpx.AsyncClient, clock: FakeClock, model: str, questions: int, *,
                         first_call_after_s: float, between_s: float) -> dict[tuple[int, int], tuple]:
    """Ask each question in turn, retrying it (up to 8 attempts) until it gets a 200; (question, try) → outcome."""
    clock.offset += first_call_after_s
    seen: dict[tuple[int, int], tuple] = {}
    for q in range(questions):
        for attempt in range(8):
            clock.offset += between_s
            body = {"model": model, "messages": [{"role": "user", "content": f"ticket {q}: my invoice is wrong"}],
                    "max_tokens": 20, "response_format": {"type": "json_object"}, "user": f"nonce-{attempt}"}
            r = await client.post("/v1/chat/completions", json=body, headers=AUTH)
            try:
                answer = r.json()
                outcome = answer["choices"][0]["message"]["content"] if r.status_code == 200 else answer["error"]["type"]
            except ValueError:  # a stalled body, dropped
                outcome, r.status_code = "no body", 0
            seen[(q, attempt)] = (r.status_code, outcome)
            if r.status_code == 200 or r.status_code == 400:
                break
    return seen


def faults(log: Path) -> list[tuple]:
    return [(c["logical_hash"][:8], c["attempt"], c["status"], c["fault"])
            for c in map(json.loads, log.read_text().splitlines())]


async def test_flagship_profile_meets_the_same_faults_on_an_idle_and_a_loaded_host(tmp_path: Path, clock) -> None:
    """The flagship's grading faults (outage, stall, 429, 5xx, 400, malformed) land on the same requests."""
    profile = flagship_profile()
    model = profile["models"][0]["id"]
    runs = []
    for name, first, between in (("idle", 0.0, 0.01), ("loaded", 25.0, 2.0)):
        _, client, log = make_mock(tmp_path, profile, name)
        async with client:
            runs.append((await patient_client(client, clock, model, 40, first_call_after_s=first, between_s=between),
                         faults(log)))
    (idle, idle_log), (loaded, loaded_log) = runs
    assert idle == loaded
    assert idle_log == loaded_log
    met = {f for *_, f in idle_log}
    # The comparison means something: the run met the outage and the scheduled kinds.
    assert {"outage", "rate_limit", "server_error", "overloaded", "bad_request", "timeout", "malformed_json"} <= met


async def test_a_per_question_outage_fails_its_questions_attempts_and_nothing_else(tmp_path: Path, clock) -> None:
    profile = {"models": MODELS, "scheduled_faults": [{"at": 2, "kind": "outage", "questions": 2, "attempts": 3}]}
    _, client, log = make_mock(tmp_path, profile, "a")
    async with client:
        seen = await patient_client(client, clock, "m", 5, first_call_after_s=0, between_s=30.0)
    statuses = {q: [s for (qq, _), (s, _) in sorted(seen.items()) if qq == q] for q in range(5)}
    # Questions of rank 2 and 3 fail their first three attempts, however long apart they come.
    assert statuses == {0: [200], 1: [200], 2: [503, 503, 503, 200], 3: [503, 503, 503, 200], 4: [200]}
    assert [f for *_, f in faults(log)].count("outage") == 6


async def test_until_waited_429s_let_an_honest_client_through_and_never_a_storm(tmp_path: Path, clock) -> None:
    """Retry-after 3 s on the questions of ranks 1 and 2: the outcome is the same on an idle and a loaded host."""
    profile = {"models": MODELS, "scheduled_faults": [
        {"at": 1, "kind": "rate_limited", "questions": 2, "retry_after_s": 3, "until_waited": True}]}
    outcomes = {}
    for client_waits, host_turnaround in ((3.0, 0.001), (3.0, 0.9), (0.0, 0.001), (0.0, 0.9), (1.5, 0.9)):
        _, client, log = make_mock(tmp_path, profile, f"{client_waits}-{host_turnaround}")
        async with client:
            seen = await patient_client(client, clock, "m", 4, first_call_after_s=0,
                                        between_s=client_waits + host_turnaround)
        outcomes[(client_waits, host_turnaround)] = seen
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        # Only the first 429 of a question is an attempt of it; refusals of a retry that came too early are not.
        refused = [c["attempt"] for c in calls if c["status"] == 429]
        assert refused == ([0, 0] if client_waits >= 3 else ([0] + [None] * 7) * 2)
        assert [c["attempt"] for c in calls if c["status"] == 200] == ([0, 1, 1, 0] if client_waits >= 3 else [0, 0])
    honest, honest_loaded, storm, storm_loaded, impatient = outcomes.values()
    assert honest == honest_loaded and storm == storm_loaded == impatient
    assert [s for (q, _), (s, _) in sorted(honest.items()) if q == 1] == [429, 200]
    assert [s for (q, _), (s, _) in sorted(storm.items()) if q == 1] == [429] * 8  # gave up after 8 tries


async def test_questions_held_by_share_and_their_answers_do_not_depend_on_arrival_order(tmp_path: Path) -> None:
    """A share-picked 429 holds the same questions in any order; a question's answer is the same at any attempt."""
    profile = {"models": MODELS, "faults": [{"kind": "server_error", "rate": 0.3}], "scheduled_faults": [
        {"at": 0, "kind": "rate_limited", "share": 0.25, "retry_after_s": 60, "until_waited": True}]}
    runs = []
    for name, order in (("forward", range(40)), ("backward", reversed(range(40)))):
        _, client, _ = make_mock(tmp_path, profile, name)
        answers = {}
        async with client:
            for q in order:
                for attempt in range(6):  # until answered, or 6 tries
                    body = {"model": "m", "messages": [{"role": "user", "content": f"question {q}"}], "user": str(attempt)}
                    r = await client.post("/v1/chat/completions", json=body, headers=AUTH)
                    if r.status_code == 200:
                        answers[q] = r.json()["choices"][0]["message"]["content"]
                        break
                    answers[q] = r.status_code
        runs.append(answers)
    assert runs[0] == runs[1]
    held = [q for q, a in runs[0].items() if a == 429]
    assert 4 <= len(held) <= 16  # about a quarter
    # The 500s met on the way do not change answers: the answer is the question's, not the attempt's.
    assert sum(isinstance(a, str) for a in runs[0].values()) == 40 - len(held)


async def test_an_answer_is_the_same_whichever_attempt_gets_through(tmp_path: Path) -> None:
    """Which question meets a rank's fault can depend on which thread came first; its answer must not."""
    answers = []
    for name, schedule in (("clean", []), ("after two failures", [{"at": 0, "kind": "outage", "attempts": 2}])):
        _, client, log = make_mock(tmp_path, {"models": MODELS, "scheduled_faults": schedule}, name)
        async with client:
            for _ in range(3):
                r = await client.post("/v1/chat/completions", headers=AUTH, json={
                    "model": "m", "messages": [{"role": "user", "content": "Is my refund on its way?"}]})
                if r.status_code == 200:
                    break
        answers.append((r.json()["choices"][0]["message"]["content"], json.loads(log.read_text().splitlines()[-1])["attempt"]))
    (clean, first), (late, third) = answers
    assert (first, third) == (0, 2) and clean == late


async def test_an_incident_opened_by_a_rank_starts_at_that_question_whatever_the_start_delay(tmp_path: Path,
                                                                                             clock) -> None:
    profile = {"models": MODELS, "incidents": [{"kind": "outage", "start_at": 3, "duration_s": 5}]}
    runs = []
    for name, first in (("idle", 0.0), ("slow start", 40.0)):
        _, client, _ = make_mock(tmp_path, profile, name)
        async with client:
            runs.append(await patient_client(client, clock, "m", 6, first_call_after_s=first, between_s=1.0))
    assert runs[0] == runs[1]
    # Opened by the 4th question; 5 s of 503s at 1 s a call; the questions after it find it over.
    assert [s for (q, _), (s, _) in sorted(runs[0].items()) if q == 3] == [503] * 5 + [200]
    assert all(s == 200 for (q, _), (s, _) in runs[0].items() if q != 3)


async def test_a_restarted_mock_continues_a_per_question_outage(tmp_path: Path, clock) -> None:
    profile = {"models": MODELS, "scheduled_faults": [{"at": 1, "kind": "outage", "questions": 1, "attempts": 3}]}
    body = {"model": "m", "messages": [{"role": "user", "content": "q1"}]}
    _, client, log = make_mock(tmp_path, profile, "run")
    async with client:
        await client.post("/v1/chat/completions", json={**body, "messages": [{"role": "user", "content": "q0"}]}, headers=AUTH)
        assert (await client.post("/v1/chat/completions", json=body, headers=AUTH)).status_code == 503
    _, client, _ = make_mock(tmp_path, profile, "run")  # same log dir: a restart
    async with client:
        statuses = [(await client.post("/v1/chat/completions", json=body, headers=AUTH)).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


@pytest.mark.parametrize(("entry", "message"), [
    ({"at": 1, "kind": "outage"}, "an outage needs duration_s (a wall-clock window) or attempts (per question), not both"),
    ({"at": 1, "kind": "outage", "attempts": 2, "duration_s": 3}, "not both"),
    ({"at": 1, "kind": "outage", "duration_s": 3, "questions": 2}, "questions applies only to an outage with attempts or to rate_limited"),
    ({"at": 1, "kind": "server_error", "attempts": 2}, "attempts applies only to kind: outage"),
    ({"at": 1, "kind": "outage", "until_waited": True, "attempts": 1}, "until_waited applies only to kind: rate_limited"),
])
def test_bad_outage_names_its_field(entry: dict, message: str) -> None:
    with pytest.raises(ProfileError, match="scheduled_faults.0") as err:
        parse_profile({"models": MODELS, "scheduled_faults": [entry]})
    assert message in str(err.value)


def test_a_window_of_questions_may_not_overlap_another_scheduled_fault() -> None:
    with pytest.raises(ProfileError, match=r"scheduled_faults: two scheduled_faults at the same index \[5\]"):
        parse_profile({"models": MODELS, "scheduled_faults": [
            {"at": 3, "kind": "rate_limited", "questions": 4}, {"at": 5, "kind": "server_error"}]})


def test_an_incident_starts_at_a_time_or_a_rank() -> None:
    for incident in ({"kind": "outage", "duration_s": 5}, {"kind": "outage", "duration_s": 5, "start_s": 1, "start_at": 2}):
        with pytest.raises(ProfileError, match="incidents.0: an incident needs start_s or start_at, not both"):
            parse_profile({"models": MODELS, "incidents": [incident]})
