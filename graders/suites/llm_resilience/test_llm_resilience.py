"""Reusable suite `llm_resilience`: how the candidate's code treated a flaky, rate-limited, billed LLM API.

Tasks include it with `grading: {include: [llm_resilience]}`. Every check is
judged from the mock's own call log (`llm_log`), which the candidate's code
never touched. No check passes for want of evidence: a run that made no calls,
or never met the failure a check is about, fails that check with "no
evidence". The grading profile schedules each kind of failure by the rank
of a distinct question (DESIGN §13), so a run of MIN_PAID_CALLS calls meets
every kind; its outage fails each question it covers several times in a
row, so every client that keeps retrying shows several successive waits.

Waits are judged so that load on the host cannot flip a verdict (see
llmlog): a floor on a wait (retry-after, MIN_RETRY_WAIT_S) only errs in
favour of the candidate, because load only lengthens measured waits; whether
waits grow is judged pair by pair over many pairs, which load does not fake.

Requests are told apart by their logical request (`llmlog.Call.logical`), so
a per-retry nonce does not hide a retry; free calls (models.list) are never
counted as requests. Gates: `bounded_retries` (a retry storm) and
`within_budget` (the budget ran out) make a submission not passed.
"""

from __future__ import annotations

import pytest

from worksample_grader import llmlog
from worksample_grader.evidence import require

MAX_IN_FLIGHT = 8  # "bounded concurrency": more open requests than this is a stampede
MAX_ATTEMPTS = 8  # attempts of one request (first try + retries) before it must give up
# Fewer paid calls than this show nothing about concurrency or spending: a pipeline
# over the hold-out makes many more; one harmless call is not evidence.
MIN_PAID_CALLS = 20


def _calls(log: llmlog.CallLog) -> list[llmlog.Call]:
    return sorted((c for c in log.calls if not c.free), key=lambda c: c.ts)


def _combined(log: llmlog.CallLog, judge) -> llmlog.Finding:
    """One finding over every key: evidence and violations summed."""
    evidence, violations, details = 0, 0, []
    for calls in log.by_key().values():
        finding = judge(calls)
        evidence += finding.evidence
        violations += finding.violations
        details += finding.details
    return llmlog.Finding.judge(evidence, violations, details)


def _require_activity(log: llmlog.CallLog) -> None:
    """Some calls, one clean answer, and MIN_PAID_CALLS in all: a couple of calls (the starter's) show nothing."""
    calls = _calls(log)
    require(calls, "the run made no LLM calls, so nothing shows resilient behaviour")
    assert any(c.ok for c in calls), f"none of {len(calls)} LLM calls got a clean answer"
    _require_volume(log, "how the client behaves")


def _require_volume(log: llmlog.CallLog, what: str) -> list[llmlog.Call]:
    calls = _calls(log)
    require(len(calls) >= MIN_PAID_CALLS, f"{len(calls)} paid calls (fewer than {MIN_PAID_CALLS}) show nothing about {what}")
    return calls


def _explain(finding: llmlog.Finding, what: str) -> str:
    example = f"; e.g. {finding.details[0]}" if finding.details else ""
    return f"{finding.violations} of {finding.evidence} {what}{example}"


@pytest.mark.points(5)
def test_retry_after_honoured(llm_log, check):
    """Retries after a 429 wait at least the retry-after the API sent"""
    _require_activity(llm_log)
    finding = _combined(llm_log, llmlog.check_retry_after)
    require(finding.verdict is not llmlog.Verdict.NO_EVIDENCE, "no rate-limited call was ever retried")
    assert finding.verdict is llmlog.Verdict.PASS, _explain(finding, "retries came before their retry-after")
    check.note(f"{finding.evidence} retries after 429 all waited")


@pytest.mark.points(5)
def test_no_nonretryable_retries(llm_log, check):
    """400/401/404, insufficient_quota and too-large requests are not retried"""
    _require_activity(llm_log)
    finding = _combined(llm_log, llmlog.check_non_retryable)
    require(finding.evidence, f"{len(_calls(llm_log))} calls, no non-retryable error met")
    assert finding.verdict is not llmlog.Verdict.FAIL, _explain(finding, "non-retryable errors were retried")
    check.note(f"{finding.evidence} non-retryable errors, none retried")


@pytest.mark.gate
@pytest.mark.points(5)
def test_bounded_retries(llm_log, check):
    """No request is tried more than 8 times (a retry storm is a gate)"""
    _require_activity(llm_log)
    failures = [c for c in _calls(llm_log) if not c.ok and (c.transient or c.rate_limited)]
    require(failures, "the run met no transient failure, so nothing shows how it retries")
    attempts: dict[tuple, int] = {}
    for call in _calls(llm_log):
        key = (call.key_hash, call.logical)
        attempts[key] = attempts.get(key, 0) + 1
    worst = max(attempts.values())
    assert worst <= MAX_ATTEMPTS, f"one request was sent {worst} times (limit {MAX_ATTEMPTS})"
    check.note(f"at most {worst} attempts per request")


@pytest.mark.points(5)
def test_backoff_after_5xx(llm_log, check):
    """After 5xx/timeouts/resets the client backs off: waits grow, none is immediate"""
    _require_activity(llm_log)
    growth = _combined(llm_log, llmlog.check_backoff)  # the rule is llmlog.backs_off, unit-tested under load
    assert growth.violations <= llmlog.MAX_NON_GROWING_SHARE * growth.evidence, \
        _explain(growth, "successive waits after failures did not grow")
    waits = _combined(llm_log, llmlog.check_retry_waits)
    require(waits.verdict is not llmlog.Verdict.NO_EVIDENCE, "no call was retried after a 5xx")
    assert waits.verdict is llmlog.Verdict.PASS, \
        _explain(waits, f"retries came within {llmlog.MIN_RETRY_WAIT_S}s of a failure")
    check.note(f"{waits.evidence} retries after transient failures; {growth.evidence - growth.violations} of "
               f"{growth.evidence} successive waits grew")


@pytest.mark.points(5)
def test_concurrency_within_limit(llm_log, check):
    """Never more than 8 requests in flight at once"""
    _require_activity(llm_log)
    calls = _require_volume(llm_log, "concurrency")
    peak = max(c.in_flight for c in calls)
    assert peak <= MAX_IN_FLIGHT, f"{peak} requests were in flight at once (limit {MAX_IN_FLIGHT})"
    check.note(f"peak {peak} in flight")


@pytest.mark.gate
@pytest.mark.points(5)
def test_within_budget(llm_log, grading_profile, check):
    """Spending stayed within the API budget (no insufficient_quota; a gate)"""
    spent = sum(c.cost_usd for c in llm_log.calls)
    refused = sum(1 for c in llm_log.calls if c.fault == "insufficient_quota")
    assert not refused, f"the budget ran out: {refused} calls refused with insufficient_quota (spent ${spent:.4f})"
    budget = grading_profile.get("budget_usd")
    if budget is not None:
        assert spent <= float(budget), f"spent ${spent:.4f} of a ${float(budget):.2f} budget"
    _require_activity(llm_log)
    _require_volume(llm_log, "spending")
    check.note(f"spent ${spent:.4f}" + (f" of ${float(budget):.2f}" if budget is not None else ""))


@pytest.mark.points(5)
def test_no_duplicate_paid_calls(llm_log, check):
    """A request that got a clean answer is not sent again (cache or reuse answers)"""
    _require_activity(llm_log)
    _require_volume(llm_log, "paying twice for one answer")
    finding = _combined(llm_log, llmlog.check_duplicates)
    assert finding.verdict is llmlog.Verdict.PASS, _explain(finding, "answered requests were paid for again")
    check.note(f"{finding.evidence} answered requests, none repeated")


@pytest.mark.points(5)
def test_finished_despite_outage(llm_log, run, check):
    """The run met API failures (outage, 5xx) and still completed, with clean answers after them"""
    _require_activity(llm_log)
    assert run.get("status") == "completed", f"the notebook run did not complete: {run.get('status')}"
    calls = _calls(llm_log)
    failures = [c for c in calls if c.fault == "outage" or c.transient]
    require(failures, "the run met no outage or 5xx, so nothing shows it survives one")
    last = failures[-1]
    assert any(c.ok and c.ts > last.ts for c in calls), "no clean answer after the last failure: the run gave up"
    outage = sum(1 for c in failures if c.fault == "outage")
    check.note(f"completed after {len(failures)} failed calls ({outage} during the outage)")
