"""The flagship's hold-out is really held out: no shared subject, few shared word 4-grams, naive approaches fail.

Figures at the time of writing (bench/validity_figures.py prints them): the
old hold-out shared 112 of 120 subjects and 56.5 % of its distinct word
4-grams with the public tickets; the regenerated one shares none and 0.3 %.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from worksample_grader.tasktools import load_module

TASK = Path(__file__).resolve().parents[3] / "tasks" / "support-ticket-triage"
MAX_SHARED_4GRAMS = 0.03  # share of the hold-out's distinct word 4-grams also found in the public tickets


def _rows(rel: str) -> list[dict]:
    with (TASK / rel).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _grams(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + 4]) for i in range(len(words) - 3)}


PUBLIC = _rows("data/tickets.csv")
HOLDOUT = _rows("grader/data/holdout/tickets.csv")


def test_no_holdout_subject_appears_in_the_public_set():
    public = {r["subject"].strip().lower() for r in PUBLIC}
    shared = [r["subject"] for r in HOLDOUT if r["subject"].strip().lower() in public]
    assert not shared, shared[:5]


def test_few_word_4grams_are_shared_with_the_public_set():
    public = set().union(*(_grams(f"{r['subject']} {r['body']}") for r in PUBLIC))
    held = set().union(*(_grams(f"{r['subject']} {r['body']}") for r in HOLDOUT))
    share = len(held & public) / len(held)
    assert share < MAX_SHARED_4GRAMS, f"{share:.3%} of hold-out 4-grams are in the public tickets"


def test_holdout_has_realistic_variety():
    labels = _rows("grader/data/holdout_labels.csv")
    assert {r["language"] for r in labels} - {"en"}, "no other languages"
    assert sum(r["multi_issue"] == "1" for r in labels) >= 3
    assert sum(r["ambiguous"] == "1" for r in labels) >= 3
    assert sum(r["injection"] == "1" for r in labels) >= 3
    assert sum("Support wrote:" in r["body"] for r in HOLDOUT) >= 3  # long quoted threads
    pii = _rows("grader/data/holdout_pii.csv")
    assert {r["kind"] for r in pii} == {"name", "email", "phone", "card"}


def test_naive_approaches_sit_well_below_the_reference():
    calibrate = load_module("tools_support_ticket_triage_calibrate", TASK / "tools" / "calibrate.py")
    labels = {r["id"]: r for r in _rows("grader/data/holdout_labels.csv")}
    naive = calibrate.naive_levels(HOLDOUT, labels)
    stored = json.loads((TASK / "grader" / "data" / "calibration.json").read_text())
    assert stored["naive"] == naive, "calibration.json is stale: run tools/calibrate.py"
    assert naive["approaches"]["subject_lookup"]["category_f1"] < 0.2
    assert naive["category_f1"] < stored["reference"]["category_f1"] - 0.25


def test_full_points_sit_exactly_at_the_reference_worst_run_rounded_down(tmp_path: Path):
    """No tolerance below the reference (regrades are deterministic), and rounding never lifts full points above it."""
    calibrate = load_module("tools_support_ticket_triage_calibrate", TASK / "tools" / "calibrate.py")
    labels = {r["id"]: r for r in _rows("grader/data/holdout_labels.csv")}
    runs = []
    for n, wrong in enumerate((3, 7)):  # two runs of the reference: 3 and 7 tickets mislabelled
        run = tmp_path / f"run{n}"
        (run / "outputs").mkdir(parents=True)
        (run / "mock").mkdir()
        with (run / "outputs" / "triage.csv").open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["id", "category", "priority"])
            for k, (tid, row) in enumerate(sorted(labels.items())):
                category = row["category"] if k >= wrong else ("bug" if row["category"] != "bug" else "billing")
                out.writerow([tid, category, row["priority"] if k >= wrong else "P4"])
        (run / "mock" / "calls.jsonl").write_text(json.dumps({"cost_usd": 0.012}) + "\n")
        runs.append(run)
    levels = calibrate.reference_levels(runs, labels)
    exact = [calibrate.score({r["id"]: (r["category"], r["priority"]) for r in _rows_at(run)}, labels, rounded=float)
             for run in runs]
    worst_f1 = min(s["category_f1"] for s in exact)
    assert levels["category_f1"] <= worst_f1 < levels["category_f1"] + 1e-4
    assert min(s["priority"] for s in exact) - 1e-4 < levels["priority"] <= min(s["priority"] for s in exact)
    assert "tolerance" not in levels and levels["cost_per_ticket_usd"] == round(0.012 / len(labels), 8)


def _rows_at(run: Path) -> list[dict]:
    with (run / "outputs" / "triage.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))
