"""llmlog on crafted call logs: each judgement passes, fails, or finds no evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worksample_grader import llmlog
from worksample_grader.llmlog import Verdict

KEY = "k" * 16


def call(ts: float, h: str, status: int = 200, fault: str | None = None, *, key: str = KEY, latency_ms: float = 0.0,
         retry_after_s: float | None = None, in_flight: int = 1, cost: float = 0.001, rid: str | None = None) -> dict:
    """One calls.jsonl record with every DESIGN field."""
    return {
        "ts": ts, "request_id": rid or f"req_{ts}_{h}", "key_hash": key, "model": "atlas-mini", "status": status,
        "fault": fault, "prompt_tokens": 10, "completion_tokens": 5 if status == 200 else 0,
        "cost_usd": cost if status == 200 else 0.0, "latency_ms": latency_ms, "retry_after_s": retry_after_s,
        "request_hash": h, "in_flight": in_flight,
    }


def write(tmp_path: Path, records: list[dict], tail: str = "") -> Path:
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def report(tmp_path: Path, records: list[dict]) -> llmlog.KeyReport:
    return llmlog.analyze(llmlog.load(write(tmp_path, records)))[KEY]


def test_empty_log_has_no_evidence_of_anything(tmp_path: Path) -> None:
    log = llmlog.load(write(tmp_path, []))
    assert llmlog.analyze(log) == {}
    summary = llmlog.summarize(log)
    assert summary["calls"] == 0 and summary["max_in_flight"] == 0


def test_single_clean_call_judges_only_activity(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(1.0, "a")])
    assert rep.activity.verdict is Verdict.PASS
    for finding in (rep.retry_after, rep.backoff, rep.non_retryable):
        assert finding.verdict is Verdict.NO_EVIDENCE and finding.evidence == 0
    assert rep.duplicates.verdict is Verdict.PASS  # one clean answer, never repeated


def test_only_failures_fail_activity(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(1.0, "a", 500, "server_error")])
    assert rep.activity.verdict is Verdict.FAIL


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, [call(1.0, "a"), call(2.0, "b")], tail='{"ts": 3.0, "request_id": "req_x", "key_h')
    log = llmlog.load(path)
    assert len(log.calls) == 2 and log.skipped_lines == 1


def test_corrupt_middle_line_raises(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(call(1.0, "a")) + "\nnot json\n" + json.dumps(call(2.0, "b")) + "\n")
    with pytest.raises(llmlog.LogError, match="line 2"):
        llmlog.load(path)


def test_retries_count_repeated_hashes_per_key(tmp_path: Path) -> None:
    records = [call(1.0, "a", 500, "server_error"), call(2.0, "a"), call(3.0, "b"), call(4.0, "a", key="other")]
    reports = llmlog.analyze(llmlog.load(write(tmp_path, records)))
    assert reports[KEY].retries == 1
    assert reports["other"].retries == 0


def test_retry_after_honoured(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(10.0, "a", 429, "rate_limit", retry_after_s=1.5, latency_ms=2), call(11.6, "a")])
    assert rep.retry_after.verdict is Verdict.PASS and rep.retry_after.evidence == 1


def test_retry_after_ignored(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(10.0, "a", 429, "rate_limit", retry_after_s=1.5), call(10.3, "a")])
    assert rep.retry_after.verdict is Verdict.FAIL and rep.retry_after.violations == 1
    assert "retry-after was 1.500s" in rep.retry_after.details[0]


def test_429_never_retried_is_no_evidence(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(10.0, "a", 429, "rate_limit", retry_after_s=1.0), call(12.0, "b")])
    assert rep.retry_after.verdict is Verdict.NO_EVIDENCE


def test_backoff_growing(tmp_path: Path) -> None:
    records = [call(0.0, "a", 500, "server_error"), call(0.5, "a", 503, "overloaded"),
               call(1.6, "a", 502, "bad_gateway"), call(3.8, "a")]
    rep = report(tmp_path, records)
    assert rep.backoff.verdict is Verdict.PASS and rep.backoff.evidence == 2  # two pairs of successive waits


def test_backoff_constant_fails(tmp_path: Path) -> None:
    records = [call(0.0, "a", 500, "server_error"), call(0.1, "a", 500, "server_error"),
               call(0.2, "a", 500, "server_error"), call(0.3, "a")]
    rep = report(tmp_path, records)
    assert rep.backoff.verdict is Verdict.FAIL


def test_backoff_counts_resets_and_timeouts_as_transient(tmp_path: Path) -> None:
    records = [call(0.0, "a", 0, "reset"), call(1.0, "a", 200, "timeout", latency_ms=100), call(3.5, "a")]
    rep = report(tmp_path, records)
    assert rep.backoff.evidence == 1 and rep.backoff.verdict is Verdict.PASS


def test_backoff_single_retry_is_no_evidence(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(0.0, "a", 500, "server_error"), call(1.0, "a")])
    assert rep.backoff.verdict is Verdict.NO_EVIDENCE


@pytest.mark.parametrize(("status", "fault"), [(400, None), (401, None), (404, None), (429, "insufficient_quota"), (429, "request_too_large")])
def test_non_retryable_retried_fails(tmp_path: Path, status: int, fault: str | None) -> None:
    rep = report(tmp_path, [call(0.0, "a", status, fault), call(1.0, "a", status, fault)])
    assert rep.non_retryable.verdict is Verdict.FAIL


def test_non_retryable_not_retried_passes(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(0.0, "a", 400), call(1.0, "b", 429, "insufficient_quota")])
    assert rep.non_retryable.verdict is Verdict.PASS and rep.non_retryable.evidence == 2


def test_rate_limit_429_is_not_non_retryable(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(0.0, "a", 429, "rate_limit", retry_after_s=0.5), call(1.0, "a")])
    assert rep.non_retryable.verdict is Verdict.NO_EVIDENCE


def test_duplicate_successful_calls(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(0.0, "a"), call(1.0, "a"), call(2.0, "b")])
    assert rep.duplicates.verdict is Verdict.FAIL and rep.duplicates.violations == 1 and rep.duplicates.evidence == 2


def test_retry_after_malformed_answer_is_not_a_duplicate(tmp_path: Path) -> None:
    rep = report(tmp_path, [call(0.0, "a", 200, "malformed_json"), call(1.0, "a")])
    assert rep.duplicates.verdict is Verdict.PASS


def test_max_in_flight_and_cost(tmp_path: Path) -> None:
    records = [call(0.0, "a", in_flight=1, cost=0.25), call(0.0, "b", in_flight=3, cost=0.5), call(0.1, "c", 500, "server_error", in_flight=2)]
    log = llmlog.load(write(tmp_path, records))
    rep = llmlog.analyze(log)[KEY]
    assert rep.max_in_flight == 3
    assert rep.cost_usd == pytest.approx(0.75)
    summary = llmlog.summarize(log)
    assert summary == {"calls": 3, "status_counts": {"200": 2, "500": 1}, "retries": 0, "rate_limited": 0,
                       "cost_usd": 0.75, "prompt_tokens": 30, "completion_tokens": 10, "max_in_flight": 3}


def test_line_separators_inside_strings_do_not_split_lines(tmp_path: Path) -> None:
    record = call(1.0, "a")
    record["model"] = "odd\u2028model\u0085name"
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n" + json.dumps(call(2.0, "b")) + "\n", encoding="utf-8")
    log = llmlog.load(path)
    assert [c.model for c in log.calls] == ["odd\u2028model\u0085name", "atlas-mini"]
