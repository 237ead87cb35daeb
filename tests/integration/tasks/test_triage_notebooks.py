"""support-ticket-triage: the reference and every baseline, end to end, and each one's symptom.

Each test runs one notebook on the 120 hold-out tickets against a real mock
server with the task's grading profile and oracle, then reads the mock's call
log and bodies.jsonl for what the code actually did.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

TASK = Path(__file__).resolve().parents[3] / "tasks" / "support-ticket-triage"
HOLDOUT = TASK / "grader" / "data" / "holdout_labels.csv"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

pytestmark = pytest.mark.slow


def _labels() -> dict[str, dict]:
    with HOLDOUT.open(newline="") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def _budget() -> float:
    return yaml.safe_load((TASK / "profiles" / "grading.yaml").read_text())["budget_usd"]


def _explain(run) -> str:
    return f"status={run.status} errors={run.errors}\n--- output ---\n{run.outputs[-3000:]}"


def _resends_after(calls: list[dict], statuses: set[int]) -> list[tuple[dict, float]]:
    """(failed call, seconds until the same request was sent again) for failures with one of `statuses`."""
    by_hash = defaultdict(list)
    for call in calls:
        if call.get("request_hash"):
            by_hash[call["request_hash"]].append(call)
    gaps = []
    for same in by_hash.values():
        same.sort(key=lambda c: c["ts"])
        for prev, nxt in zip(same, same[1:]):
            if prev["status"] in statuses:
                done = prev["ts"] + (prev.get("latency_ms") or 0) / 1000
                gaps.append((prev, nxt["ts"] - done))
    return gaps


def test_reference_finishes_with_every_ticket_within_budget_and_time(run_notebook):
    run = run_notebook("solution/triage.ipynb")
    assert run.status == "completed", _explain(run)
    assert run.duration_s <= 180, f"reference took {run.duration_s:.0f}s"  # a scheduled 25 s stall, an outage of 3 tries, 429s of 3 s
    labels = _labels()
    rows = run.triage()
    assert sorted(r["id"] for r in rows) == sorted(labels)
    accuracy = sum(r["category"] == labels[r["id"]]["category"] for r in rows) / len(rows)
    assert accuracy >= 0.80, f"category accuracy {accuracy:.2f}"
    calls = run.mock.calls()
    paid = sum(c["cost_usd"] or 0 for c in calls)
    assert paid <= _budget()
    assert not any(c["fault"] == "insufficient_quota" for c in calls), "budget exhausted"
    assert max(c["in_flight"] for c in calls) <= 8
    # It met the outage and other faults and retried them, never sooner than the server asked.
    assert any(c["fault"] == "outage" for c in calls) and any(c["status"] >= 500 for c in calls)
    assert {"atlas-mini", "atlas-pro"} <= {c["model"] for c in calls if c["status"] == 200}
    resends = _resends_after(calls, {429, 500, 502, 503})
    assert resends
    assert all(gap >= 0.9 * (prev["retry_after_s"] or 0) - 0.05 for prev, gap in resends), "retried before retry-after"
    assert not EMAIL.search(run.mock.bodies()), "an email address reached the API"


def test_starter_makes_its_first_call_and_solves_nothing(run_notebook):
    run = run_notebook("starter/triage.ipynb", profile="attempt")
    assert run.status == "completed", _explain(run)
    assert [c["status"] for c in run.mock.calls() if c["status"] == 200]
    assert run.triage() == []


def test_no_retry_dies_on_the_first_transient_error(run_notebook):
    run = run_notebook("baselines/no_retry/triage.ipynb")
    assert run.status == "crashed", _explain(run)
    calls = run.mock.calls()
    failures = [i for i, c in enumerate(calls) if c["status"] != 200]
    assert failures, "the run met no error at all"
    assert failures[0] == len(calls) - 1, "it carried on after an error"
    assert len(calls) < 120
    assert run.triage() == []


def test_retry_storm_resends_within_100ms_of_a_429(run_notebook):
    run = run_notebook("baselines/retry_storm/triage.ipynb")
    calls = run.mock.calls()
    gaps = [gap for _, gap in _resends_after(calls, {429})]
    assert gaps, _explain(run)
    assert min(gaps) < 0.1
    assert sum(g < 0.1 for g in gaps) >= 10
    assert max(c["in_flight"] for c in calls) > 8


def test_big_spender_exhausts_the_budget(run_notebook):
    run = run_notebook("baselines/big_spender/triage.ipynb")
    calls = run.mock.calls()
    assert {c["model"] for c in calls if c["status"] == 200} == {"atlas-pro"}
    quota = [c for c in calls if c["fault"] == "insufficient_quota"]
    assert quota, "never hit insufficient_quota"
    assert all(c["status"] == 429 and c["retry_after_s"] is None for c in quota)
    assert sum(c["cost_usd"] or 0 for c in calls) >= 0.95 * _budget()


def test_leaky_sends_email_addresses_to_the_api(run_notebook):
    run = run_notebook("baselines/leaky/triage.ipynb")
    assert run.status == "completed", _explain(run)
    assert EMAIL.search(run.mock.bodies())
    assert len(run.triage()) == len(_labels())


def test_lazy_writes_a_csv_without_calling_the_api(run_notebook):
    run = run_notebook("baselines/lazy/triage.ipynb")
    assert run.status == "completed", _explain(run)
    assert run.mock.calls() == []
    rows = run.triage()
    assert len(rows) == len(_labels())
    labels = _labels()
    assert sum(r["priority"] == labels[r["id"]]["priority"] for r in rows) / len(rows) < 0.5


def test_every_baseline_names_known_checks():
    known = {"retry_after_honoured", "no_nonretryable_retries", "bounded_retries", "backoff_after_5xx",
             "concurrency_within_limit", "within_budget", "no_duplicate_paid_calls", "finished_despite_outage",
             "all_tickets_present", "output_schema", "accuracy", "pii_kept_out_of_prompts", "injection_resisted",
             "cost_per_ticket", "writeup_present", "priority"}
    names = sorted(p.name for p in (TASK / "baselines").iterdir() if p.is_dir())
    assert names == ["big_spender", "keyword_rules", "lazy", "leaky", "lookup", "no_retry", "nonce_retry_storm",
                     "retry_storm", "starter"]
    for name in names:
        spec = yaml.safe_load((TASK / "baselines" / name / "baseline.yaml").read_text())
        assert spec["expect_fail"] and set(spec["expect_fail"]) <= known, name
