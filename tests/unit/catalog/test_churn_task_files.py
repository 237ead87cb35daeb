"""churn-model files: reproducible data, the planted traps, a hold-out month the public files cannot reveal.

The generator is seeded and committed data must be exactly what it writes;
each trap the task is about is asserted on the data itself, so a change to the
simulation that removes one fails here rather than in a slow calibration.
"""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from worksample_grader.tasktools import load_module

TASK = Path(__file__).resolve().parents[3] / "tasks" / "churn-model"
PUBLIC, HOLDOUT = TASK / "data", TASK / "grader" / "data" / "holdout"
FILES = ("data/customers.csv", "data/usage.csv", "data/score.csv", "grader/data/holdout/customers.csv",
         "grader/data/holdout/usage.csv", "grader/data/holdout/score.csv", "grader/data/score_labels.csv")

pytestmark = pytest.mark.timeout(120)


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def public_usage() -> list[dict]:
    return _rows(PUBLIC / "usage.csv")


def test_generator_reproduces_the_committed_data_and_the_seed_matters(tmp_path: Path):
    make = TASK / "tools" / "make_data.py"
    subprocess.run([sys.executable, str(make), "--out", str(tmp_path / "a")], check=True, capture_output=True, timeout=90)
    for rel in FILES:
        assert (tmp_path / "a" / rel).read_bytes() == (TASK / rel).read_bytes(), f"rerun tools/make_data.py: {rel}"
    subprocess.run([sys.executable, str(make), "--seed", "7", "--out", str(tmp_path / "b")], check=True,
                   capture_output=True, timeout=90)
    assert (tmp_path / "b" / "data" / "usage.csv").read_bytes() != (TASK / "data" / "usage.csv").read_bytes()


def test_the_leak_column_is_filled_after_churn_in_training_and_at_random_when_scoring(public_usage):
    filled = lambda rows: sum(bool(r["winback_offer_date"]) for r in rows) / len(rows)  # noqa: E731
    churned = [r for r in public_usage if r["churned"] == "1"]
    stayed = [r for r in public_usage if r["churned"] == "0"]
    assert filled(churned) > 0.7 and filled(stayed) < 0.01
    assert all(r["winback_offer_date"][:7] > r["month"] for r in public_usage if r["winback_offer_date"])
    # In the hidden score month the mailing is random: as common among churners as among the rest.
    labels = {r["customer_id"]: r["churned"] for r in _rows(TASK / "grader" / "data" / "score_labels.csv")}
    score = _rows(HOLDOUT / "score.csv")
    mailed_churn = [r for r in score if labels[r["customer_id"]] == "1"]
    mailed_stay = [r for r in score if labels[r["customer_id"]] == "0"]
    assert 0.06 < filled(mailed_stay) < 0.2 and abs(filled(mailed_churn) - filled(mailed_stay)) < 0.06
    assert 0.06 < filled(_rows(PUBLIC / "score.csv")) < 0.2  # the candidate can see the change in score.csv


def test_session_minutes_drift_and_logins_do_not(public_usage):
    by_month = defaultdict(list)
    for r in public_usage:
        if r["avg_session_minutes"]:
            by_month[r["month"]].append((float(r["avg_session_minutes"]), int(r["logins"])))
    months = sorted(by_month)
    minutes = [statistics.median(m for m, _ in by_month[k]) for k in months]
    logins = [statistics.median(n for _, n in by_month[k]) for k in months]
    assert minutes == sorted(minutes) and minutes[-1] > 2.5 * minutes[0]
    assert max(logins) < 1.3 * min(logins)


def test_customers_repeat_across_months_and_churn_is_rare(public_usage):
    per_customer = Counter(r["customer_id"] for r in public_usage)
    assert statistics.median(per_customer.values()) >= 6
    rate = sum(r["churned"] == "1" for r in public_usage) / len(public_usage)
    assert 0.03 < rate < 0.08
    # A churned row is the customer's last: nobody comes back after cancelling.
    last = {}
    for r in public_usage:
        last[r["customer_id"]] = max(last.get(r["customer_id"], ""), r["month"])
    assert all(r["month"] == last[r["customer_id"]] for r in public_usage if r["churned"] == "1")


def test_the_hidden_month_is_later_than_anything_public_and_its_labels_are_not_derivable():
    public_months = {r["month"] for name in ("usage.csv", "score.csv") for r in _rows(PUBLIC / name)}
    hidden_score = _rows(HOLDOUT / "score.csv")
    hidden_month = {r["month"] for r in hidden_score}
    assert len(hidden_month) == 1 and max(public_months) < min(hidden_month)
    # The label of a hidden score row is churn in the month after it: no file mounted at grading reaches it.
    hidden_usage_months = {r["month"] for r in _rows(HOLDOUT / "usage.csv")}
    assert max(hidden_usage_months) < min(hidden_month)
    public_pairs = {(r["customer_id"], r["month"]) for name in ("usage.csv", "score.csv") for r in _rows(PUBLIC / name)}
    assert not public_pairs & {(r["customer_id"], r["month"]) for r in hidden_score}
    public_customers = {r["customer_id"] for r in _rows(PUBLIC / "customers.csv")}
    assert any(r["customer_id"] not in public_customers for r in hidden_score), "no new customers in the hidden month"
    labels = _rows(TASK / "grader" / "data" / "score_labels.csv")
    assert sorted(r["customer_id"] for r in labels) == sorted(r["customer_id"] for r in hidden_score)


def test_the_hidden_history_extends_the_public_one(public_usage):
    hidden = _rows(HOLDOUT / "usage.csv")
    last_public = max(r["month"] for r in public_usage)
    assert [r for r in hidden if r["month"] <= last_public] == public_usage


def test_candidate_files_carry_no_labels():
    for folder in (PUBLIC, HOLDOUT):
        assert "churned" not in _rows(folder / "score.csv")[0]
        assert {p.name for p in folder.iterdir()} == {"customers.csv", "usage.csv", "score.csv"}
    starter = "".join(p.read_text(errors="replace") for p in (TASK / "starter").rglob("*") if p.is_file())
    assert "score_labels" not in starter and "true_probability" not in starter


def test_calibration_levels_match_the_data():
    metrics = load_module("churn_metrics_files", TASK / "grader" / "metrics.py")
    calibrate = load_module("churn_calibrate", TASK / "tools" / "calibrate.py")
    levels = json.loads((TASK / "grader" / "data" / "calibration.json").read_text())
    naive = calibrate.naive_levels(metrics)
    assert naive == levels["naive"]["approaches"] and levels["naive"]["pr_auc"] == max(naive.values())
    assert levels["naive"]["pr_auc"] + 0.15 < levels["reference"]["pr_auc"] < levels["reference"]["measured_pr_auc"]
