"""Host load cannot flip the timing checks of llm_resilience (issue 10: identical regrades).

A wait is measured from the mock's log: from the end of the failed call to
the arrival of the retry. On a loaded host the client's turnaround (wake up,
handle the error, send again) is added to every wait: 0.23-0.86 s was seen
at load 20 on 2 cores. These tests replay the grading outage (12 questions,
each failing its first 3 attempts) for clients that choose their waits, with
that much random turnaround added, and judge them with the suite's own
rules: an honest backoff client passes every time, a client that retries at
once fails (almost) every time, whatever the load.
"""

from __future__ import annotations

import random

import pytest

from worksample_grader import llmlog

pytestmark = pytest.mark.timeout(30)
QUESTIONS, FAILURES = 12, 3  # the flagship grading profile's outage
TRIALS = 400


def backoff_passes(calls: list[llmlog.Call]) -> bool:
    """backoff_after_5xx's verdict on one key's calls (llm_resilience uses llmlog.backs_off's rule)."""
    return llmlog.backs_off(llmlog.check_backoff(calls), llmlog.check_retry_waits(calls))


def outage_log(rng: random.Random, chosen_wait, turnaround) -> list[llmlog.Call]:
    """The calls of QUESTIONS questions that each fail FAILURES times (503 outage) and then succeed."""
    calls, t = [], 1000.0
    for q in range(QUESTIONS):
        for attempt in range(FAILURES + 1):
            ok = attempt == FAILURES
            calls.append(llmlog.Call(
                ts=t, request_id=f"req_{q}_{attempt}", key_hash="k", model="atlas-mini", status=200 if ok else 503,
                fault=None if ok else "outage", prompt_tokens=10, completion_tokens=5 if ok else 0,
                cost_usd=0.0001 if ok else 0.0, latency_ms=250.0 if ok else 1.0, retry_after_s=None,
                request_hash=f"h{q}", in_flight=1))
            t += 0.001 + chosen_wait(attempt, rng) + turnaround(rng)
    return sorted(calls, key=lambda c: c.ts)


def reference_backoff(attempt: int, rng: random.Random) -> float:
    """The flagship reference's wait: min(32, 2**attempt) * U(0.5, 1)."""
    return min(32.0, 2.0**attempt) * rng.uniform(0.5, 1.0)


def sdk_backoff(attempt: int, rng: random.Random) -> float:
    """The openai SDK's own wait: 0.5 * 2**attempt, less up to 25 % jitter."""
    return min(0.5 * 2.0**attempt, 8.0) * (1 - 0.25 * rng.random())


def immediate(attempt: int, rng: random.Random) -> float:
    return 0.0


def loaded(rng: random.Random) -> float:
    return rng.uniform(0.23, 0.86)  # measured at load 20


def idle(rng: random.Random) -> float:
    return rng.uniform(0.001, 0.02)


@pytest.mark.parametrize("backoff", [reference_backoff, sdk_backoff])
@pytest.mark.parametrize("host", [idle, loaded])
def test_honest_backoff_passes_whatever_the_load(backoff, host) -> None:
    rng = random.Random(f"{backoff.__name__}-{host.__name__}")
    failed = sum(not backoff_passes(outage_log(rng, backoff, host)) for _ in range(TRIALS))
    assert failed == 0, f"{failed} of {TRIALS} honest runs failed backoff_after_5xx"


@pytest.mark.parametrize("host", [idle, loaded])
def test_immediate_retries_fail_whatever_the_load(host) -> None:
    rng = random.Random(f"storm-{host.__name__}")
    passed = sum(backoff_passes(outage_log(rng, immediate, host)) for _ in range(TRIALS))
    # Idle: every retry is under MIN_RETRY_WAIT_S. Loaded: only growth judges, and 24 pairs of
    # noise grow in 3/4 of them about 1 % of the time.
    assert passed <= 0.02 * TRIALS, f"{passed} of {TRIALS} retry storms passed backoff_after_5xx"


def test_a_measured_wait_is_never_shorter_than_the_chosen_one() -> None:
    """retry_after_honoured under load: turnaround only lengthens the wait, so honouring clients always pass."""
    rng = random.Random(7)
    for _ in range(TRIALS):
        retry_after = rng.choice([0.05, 0.5, 3.0])
        first = llmlog.Call(ts=10.0, request_id="a", key_hash="k", model="m", status=429, fault="rate_limit",
                            prompt_tokens=1, completion_tokens=0, cost_usd=0.0, latency_ms=0.4,
                            retry_after_s=retry_after, request_hash="h", in_flight=1)
        honest = first.end + retry_after + loaded(rng)
        storm = first.end + loaded(rng)
        retry = {"request_id": "b", "status": 200, "fault": None, "retry_after_s": None, "latency_ms": 200.0}
        assert llmlog.check_retry_after([first, llmlog.Call(**{**first.__dict__, **retry, "ts": honest})]).verdict \
            is llmlog.Verdict.PASS
        if retry_after >= 3.0:  # the flagship's scheduled 429: no turnaround seen reaches it
            assert llmlog.check_retry_after([first, llmlog.Call(**{**first.__dict__, **retry, "ts": storm})]).verdict \
                is llmlog.Verdict.FAIL
