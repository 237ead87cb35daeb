"""The SDK's validity rules one by one: curves, priority weighting, PII patterns, logical requests, free calls."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from worksample_grader import llmlog, pii
from worksample_grader.logical import logical_hash
from worksample_grader.scoring import curve, falling, macro_f1, weighted_accuracy


def test_curve_is_zero_at_the_naive_level_and_full_at_the_reference():
    assert curve(0.45, 0.45, 0.85) == 0.0 and curve(0.30, 0.45, 0.85) == 0.0
    assert curve(0.85, 0.45, 0.85) == 1.0 and curve(0.99, 0.45, 0.85) == 1.0
    assert curve(0.65, 0.45, 0.85) == pytest.approx(0.5)


def test_cost_is_full_up_to_one_and_a_half_times_the_reference_and_zero_from_four():
    assert falling(0.2, 1.5, 4.0) == 1.0 and falling(1.5, 1.5, 4.0) == 1.0
    assert falling(2.75, 1.5, 4.0) == pytest.approx(0.5)
    assert falling(4.0, 1.5, 4.0) == 0.0 and falling(40, 1.5, 4.0) == 0.0


def test_a_missed_p1_costs_three_times_another_miss():
    truth = ["P1", "P3", "P3", "P4"]
    missed_p1 = weighted_accuracy(truth, ["P2", "P3", "P3", "P4"], {"P1": 3})
    missed_p3 = weighted_accuracy(truth, ["P1", "P4", "P3", "P4"], {"P1": 3})
    assert missed_p1 == pytest.approx(3 / 6) and missed_p3 == pytest.approx(5 / 6)


def test_macro_f1_weighs_rare_classes_like_common_ones():
    assert macro_f1(["a", "a", "b"], ["a", "a", "a"], ("a", "b")) == pytest.approx((0.8 + 0.0) / 2)


@pytest.mark.parametrize("text, kind", [
    ("write to jo.doe@example.co.uk", "email"), ("call +1 (415) 555-0100", "phone"), ("+44 7700 900123", "phone"),
    ("+33 6 12 34 56 78", "phone"), ("(056) 1737 3053", "phone"), ("0612345678", "phone"),
    ("card 4111 1111 1111 1111", "card"), ("4111-1111-1111-1111", "card"), ("5048249603498540", "card"),
])
def test_personal_data_patterns_find(text, kind):
    assert kind in {k for k, _ in pii.find_pii(text)}


@pytest.mark.parametrize("text", [
    "since 2026-10-01", "on 2026-10-01 14:30", "at 2026-10-01T14:30:00Z", "on 01/10/2026", "12.10.2026",
    "invoice INV-48291", "invoice B-2024-4092", "order #482913", "$2,400.99", "error 0x1F2A", "at 10:45",
])
def test_dates_amounts_and_ids_are_not_personal_data(text):
    assert pii.find_pii(text) == set()


def test_known_values_are_found_however_respaced_and_in_any_field():
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "user": "MATEO  RUIZ", "metadata": {"tel": "33612345678"}}
    found = pii.leaked({"Mateo Ruiz", "+33 6 12 34 56 78", "Ana Lima"}, json.dumps(body))
    assert found == {"Mateo Ruiz", "+33 6 12 34 56 78"}


def _chat(content: str, **extra) -> dict:
    return {"model": "atlas-mini", "messages": [{"role": "system", "content": "Classify."}, {"role": "user", "content": content}], **extra}


def test_logical_hash_ignores_nonces_and_whitespace_but_not_the_question():
    base = logical_hash(_chat("Ticket one"))
    assert logical_hash(_chat("Ticket   one\n", user="n-1", seed=7, metadata={"try": 2}, temperature=0.3)) == base
    assert logical_hash(_chat("Ticket two")) != base
    assert logical_hash({**_chat("Ticket one"), "model": "atlas-pro"}) != base
    assert logical_hash(_chat("Ticket one", response_format={"type": "json_object"})) != base


def _call(ts, rid, status=200, fault=None, rh=None, model="atlas-mini", cost=0.001):
    return {"ts": ts, "request_id": rid, "key_hash": "k", "model": model, "status": status, "fault": fault,
            "prompt_tokens": 10 if model else 0, "completion_tokens": 0, "cost_usd": cost if status == 200 else 0.0,
            "latency_ms": 1.0, "retry_after_s": None, "request_hash": rh or hashlib.sha256(rid.encode()).hexdigest(),
            "in_flight": 1}


def test_a_nonce_per_retry_does_not_hide_the_retries(tmp_path: Path):
    calls = [_call(i * 0.01, f"r{i}", 500, "server_error") for i in range(9)] + [_call(0.2, "r9")]
    bodies = {f"r{i}": _chat("Same ticket", user=f"nonce-{i}") for i in range(10)}
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in calls))
    plain = llmlog.load(path)
    logical = llmlog.load(path, bodies=bodies)
    assert llmlog.analyze(plain)["k"].retries == 0  # every raw body differs
    assert llmlog.analyze(logical)["k"].retries == 9
    assert max(len(chain) for chain in llmlog._attempt_chains(logical.calls)) == 10  # one request, ten attempts


def test_the_mocks_logical_hash_wins_over_bodies(tmp_path: Path):
    calls = [dict(_call(0, "a", 500, "server_error"), logical_hash="L"), dict(_call(1, "b"), logical_hash="L")]
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in calls))
    assert llmlog.analyze(llmlog.load(path, bodies={"a": "x", "b": "y"}))["k"].retries == 1


def test_free_calls_are_never_duplicate_paid_calls(tmp_path: Path):
    models = hashlib.sha256(b"GET /v1/models").hexdigest()
    calls = [_call(0, "m1", rh=models, model=None, cost=0), _call(1, "c1"), _call(2, "m2", rh=models, model=None, cost=0),
             _call(3, "m3", rh=hashlib.sha256(b"GET /v1/models/atlas-mini").hexdigest(), model=None, cost=0)]
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in calls))
    report = llmlog.analyze(llmlog.load(path))["k"]
    assert report.duplicates.verdict is llmlog.Verdict.PASS and report.duplicates.evidence == 1
    assert report.retries == 0
