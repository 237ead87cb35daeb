"""churn-model's hidden suite on crafted run folders: what earns points and what cannot.

Each test writes a run folder as the runner leaves it (predictions, executed
notebook, run record) and runs the task's real suite over it with the grading
plugin, host-side, exactly as the grader container does. The hidden data is
the committed hidden data; predictions are built from its labels and the
simulation's true probabilities.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from hidden_suite import run_hidden_suite

TASK = Path(__file__).resolve().parents[3] / "tasks" / "churn-model"
HIDDEN = TASK / "grader" / "data"
SOLUTION_CARD = [c for c in nbformat.read(TASK / "solution" / "churn.ipynb", as_version=4).cells]

pytestmark = pytest.mark.timeout(120)


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


LABELS = _rows(HIDDEN / "score_labels.csv")
SCORE = {r["customer_id"]: r for r in _rows(HIDDEN / "holdout" / "score.csv")}


def truth_predictions() -> dict[str, float]:
    """The simulation's own probabilities: better than any model can be, and calibrated."""
    return {r["customer_id"]: float(r["true_probability"]) for r in LABELS}


SAME = object()  # make_run's default second run: the same predictions file


def _write_run(run: Path, predictions, status: str, duration: float) -> None:
    """outputs/predictions.csv (None: not written; a str: written as is) and run.json in `run`."""
    (run / "mock").mkdir(parents=True)
    if predictions is not None:
        (run / "outputs").mkdir()
        with (run / "outputs" / "predictions.csv").open("w", newline="") as fh:
            if isinstance(predictions, str):
                fh.write(predictions)
            else:
                writer = csv.writer(fh)
                writer.writerow(["customer_id", "churn_probability"])
                writer.writerows(predictions.items() if isinstance(predictions, dict) else predictions)
    (run / "run.json").write_text(json.dumps({"status": status, "duration_s": duration, "cells": 8, "errors": []}))


def make_run(root: Path, predictions: dict[str, object] | list[tuple] | None, cells: list | None = None,
             status: str = "completed", duration: float = 40.0, rerun=SAME, rerun_status: str = "completed") -> Path:
    """A run folder: outputs/predictions.csv (None: not written), the notebook, run.json, and the second run
    the task's grading.rerun asks for in rerun/ (by default with the same predictions; rerun=None: no file)."""
    run = root / "run"
    _write_run(run, predictions, status, duration)
    _write_run(run / "rerun", predictions if rerun is SAME else rerun, rerun_status, duration)
    nb = nbformat.v4.new_notebook(cells=cells if cells is not None else SOLUTION_CARD)
    nbformat.write(nb, run / "notebook.ipynb")
    (run / "task.json").write_text(json.dumps({"slug": "churn-model"}))
    (run / "profile.json").write_text("{}")
    return run


def grade(root: Path) -> dict:
    """Run the task's suite over root/run as the grader container does; the result JSON."""
    return run_hidden_suite(root, TASK)


def checks(result: dict) -> dict[str, dict]:
    return {c["id"]: c for c in result["checks"]}


def passed(result: dict) -> bool:
    """As the platform decides: no failed gate and at least the task's pass_threshold (70 %)."""
    return not result.get("gates_failed") and result["score"] >= 0.7 * result["max_score"]


def test_the_true_probabilities_with_the_reference_notebook_earn_everything(tmp_path):
    make_run(tmp_path, truth_predictions())
    result = grade(tmp_path)
    failing = {k: c["message"] for k, c in checks(result).items() if c["status"] != "pass"}
    assert not failing, failing
    assert passed(result) and result["score"] == result["max_score"] == 100


def test_constant_base_rate_earns_nothing_for_ranking_calibration_or_leak(tmp_path):
    rate = sum(int(r["churned"]) for r in LABELS) / len(LABELS)
    make_run(tmp_path, {cid: round(rate, 4) for cid in SCORE})
    result = grade(tmp_path)
    got = checks(result)
    assert got["predictions_complete"]["status"] == "pass"
    for name in ("pr_auc", "calibration", "leak_not_used"):
        assert got[name]["status"] == "fail" and got[name]["points"] == 0, got[name]
    assert got["calibration"]["message"].startswith("no evidence")
    assert not passed(result) and result["score"] <= 30


def test_a_one_rule_ranking_scaled_to_the_base_rate_does_not_pass(tmp_path):
    # The cheapest "model" that ranks at all: most support tickets first, probabilities around the base rate.
    rate = sum(int(r["churned"]) for r in LABELS) / len(LABELS)
    preds = {cid: min(1.0, rate * (0.5 + int(row["support_tickets"]))) for cid, row in SCORE.items()}
    make_run(tmp_path, preds)
    result = grade(tmp_path)
    got = checks(result)
    assert got["pr_auc"]["status"] == "fail" and got["pr_auc"]["points"] == 0, got["pr_auc"]
    assert got["calibration"]["message"].startswith("no evidence")
    assert not passed(result) and result["score"] <= 45


def test_a_model_that_follows_the_leak_column_is_caught(tmp_path):
    preds = {cid: (0.6 if SCORE[cid]["winback_offer_date"] else p) for cid, p in truth_predictions().items()}
    make_run(tmp_path, preds)
    got = checks(grade(tmp_path))
    assert got["leak_not_used"]["status"] == "fail", got["leak_not_used"]
    assert "relies on the leak" in got["leak_not_used"]["message"]


def test_probabilities_scaled_down_by_drift_fail_calibration_but_still_rank(tmp_path):
    make_run(tmp_path, {cid: p * 0.5 for cid, p in truth_predictions().items()})
    got = checks(grade(tmp_path))
    assert got["pr_auc"]["status"] == "pass"
    assert got["calibration"]["status"] == "fail" and "overall churn level" in got["calibration"]["message"]


def _load(name: str, path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


METRICS = _load("churn_metrics", TASK / "grader" / "metrics.py")


@pytest.mark.parametrize("defect, edit", [
    ("missing", lambda rows: rows[1:]),
    ("nan", lambda rows: [(rows[0][0], "nan")] + rows[1:]),
    ("infinite", lambda rows: [(rows[0][0], "inf")] + rows[1:]),
    ("above one", lambda rows: [(rows[0][0], "1.5")] + rows[1:]),
    ("negative", lambda rows: [(rows[0][0], "-0.1")] + rows[1:]),
    ("repeated", lambda rows: rows + rows[:1]),
    ("unknown id", lambda rows: rows + [("C99999", "0.1")]),
    ("text", lambda rows: [(rows[0][0], "high")] + rows[1:]),
    ("empty", lambda rows: [(rows[0][0], "")] + rows[1:]),
])
def test_the_parser_reports_every_defective_row(defect, edit):
    conftest = _load("churn_conftest", TASK / "grader" / "conftest.py")
    rows = [{"customer_id": cid, "churn_probability": f"{p:.5f}"} for cid, p in truth_predictions().items()]
    edited = [{"customer_id": r[0], "churn_probability": r[1]} for r in edit([tuple(r.values()) for r in rows])]
    assert not conftest.parse_predictions(["customer_id", "churn_probability"], rows, set(SCORE)).problems
    parsed = conftest.parse_predictions(["customer_id", "churn_probability"], edited, set(SCORE))
    assert len(parsed.problems) == 1, (defect, parsed.problems)
    wrong_header = conftest.parse_predictions(["id", "p"], rows, set(SCORE))
    assert "missing column(s) customer_id, churn_probability" in wrong_header.problems[0]


def test_one_defective_row_fails_the_gate_and_the_submission(tmp_path):
    rows = [(cid, f"{p:.5f}") for cid, p in truth_predictions().items()]
    make_run(tmp_path, rows[1:] + [(rows[0][0], "nan")])
    result = grade(tmp_path)
    gate = checks(result)["predictions_complete"]
    assert gate["status"] == "fail" and "not a probability" in gate["message"], gate
    assert "predictions_complete" in result.get("gates_failed", []) and not passed(result)


def test_no_predictions_file_fails_the_gate_and_scores_little(tmp_path):
    make_run(tmp_path, None, status="crashed")
    result = grade(tmp_path)
    got = checks(result)
    assert got["predictions_complete"]["status"] != "pass"
    assert not passed(result) and result["score"] <= 15  # only the notebook-text checks


def _code(source: str):
    return nbformat.v4.new_code_cell(source)


@pytest.mark.parametrize("source, ok", [
    ("from sklearn.ensemble import RandomForestClassifier\nm = RandomForestClassifier(n_estimators=10)", False),
    ("m = RandomForestClassifier(random_state=None)", False),
    ("X_tr, X_va = train_test_split(X, test_size=0.2)", False),
    ("rng = np.random.default_rng()", False),
    ("df = usage.sample(frac=0.5)", False),
    ("cv = StratifiedKFold(5, shuffle=True)", False),
    ("np.random.seed(7)\nrng = np.random.default_rng()", False),
    ("def broken(:\n    pass", False),
    ("import numpy as np\nnp.random.seed(7)\nm = RandomForestClassifier()\ndf = usage.sample(frac=0.5)", True),
    ("m = HistGradientBoostingClassifier(random_state=SEED)\ncv = KFold(5)", True),
    ("%matplotlib inline\nrng = np.random.default_rng(3)", True),
    ("m = LogisticRegression(max_iter=500, random_state=0)", True),
])
def test_seeding_analysis(source, ok):
    assert (not METRICS.unseeded_calls(source)) is ok, METRICS.unseeded_calls(source)


def _changed(preds: dict[str, float], every: int, by: float) -> dict[str, float]:
    return {cid: (p * by if i % every == 0 else p) for i, (cid, p) in enumerate(preds.items())}


def test_a_second_run_with_other_probabilities_fails_the_reproducible_gate(tmp_path):
    # The reference seeded from the clock: every random call has a random_state, so the static look passes.
    make_run(tmp_path, truth_predictions(), rerun=_changed(truth_predictions(), every=3, by=0.9))
    result = grade(tmp_path)
    got = checks(result)["reproducible"]
    assert got["status"] == "fail" and "probabilities changed" in got["message"], got
    assert "one that changes between runs" in got["message"]  # the hint, when nothing is left unseeded
    assert "reproducible" in result["gates_failed"] and not passed(result)
    assert result["score"] == result["max_score"] - got["max_points"]  # everything else still earns its points


def test_runs_that_agree_pass_in_any_row_order_whatever_a_static_look_at_the_code_says(tmp_path):
    cells = SOLUTION_CARD + [nbformat.v4.new_code_cell("m = RandomForestClassifier(n_estimators=50)")]  # unseeded
    rows = list(truth_predictions().items())
    reordered = [(cid, format(p, ".17e")) for cid, p in reversed(rows)]
    make_run(tmp_path, rows, cells=cells, rerun=reordered)
    got = checks(grade(tmp_path))["reproducible"]
    assert got["status"] == "pass" and f"same {len(rows)} probabilities" in got["message"], got


@pytest.mark.parametrize("rerun_status, message", [
    ("timeout", "the second run of the notebook did not complete (timeout)"),
    ("completed", "second run: outputs/predictions.csv: larger than"),
])
def test_a_second_run_that_times_out_or_writes_a_huge_file_fails_the_gate(tmp_path, rerun_status, message):
    make_run(tmp_path, truth_predictions(), rerun_status=rerun_status)
    with (tmp_path / "run" / "rerun" / "outputs" / "predictions.csv").open("r+b") as fh:
        fh.truncate(40 * 1024**2)  # sparse: over the run folder's 32 MiB read cap, instantly
    result = grade(tmp_path)
    got = checks(result)["reproducible"]
    assert got["status"] == "fail" and message in got["message"], got
    assert "reproducible" in result["gates_failed"] and checks(result)["predictions_complete"]["status"] == "pass"


def test_a_run_folder_without_a_second_run_is_an_authoring_error_of_the_task(tmp_path):
    make_run(tmp_path, truth_predictions())
    shutil.rmtree(tmp_path / "run" / "rerun")
    got = checks(grade(tmp_path))["reproducible"]
    assert got["status"] != "pass" and "grading.rerun" in got["message"], got


def test_run_differences_compares_by_customer_within_the_tolerance():
    first = {"a": 0.1, "b": 0.2, "c": 0.3}
    assert METRICS.run_differences(first, dict(reversed(first.items())), 1e-9) == ([], 0.0)
    problems, largest = METRICS.run_differences(first, {"a": 0.1 + 1e-12, "b": 0.25, "d": 0.3}, 1e-9)
    assert math.isclose(largest, 0.05)
    assert problems == ["1 customer(s) predicted only in the first run (e.g. c)",
                        "1 customer(s) predicted only in the second run (e.g. d)",
                        "1 of 2 probabilities changed (largest by 0.05, customer b: 0.2 then 0.25)"]


def test_a_random_split_accuracy_card_and_a_slow_run_fail_their_checks(tmp_path):
    card = nbformat.v4.new_markdown_cell("## Model card\n\nRandom forest. Split: a random 80/20 split of the rows, "
                                         "stratified. Metric: accuracy, 95 % on the validation rows.")
    make_run(tmp_path, truth_predictions(), cells=[card, _code("x = 1")], duration=451)
    got = checks(grade(tmp_path))
    assert got["model_card_split"]["status"] == "fail" and got["model_card_metric"]["status"] == "fail"
    assert got["training_time"]["status"] == "fail" and "over the 300s budget" in got["training_time"]["message"]
    make_run(tmp_path / "busy", truth_predictions(), duration=440)
    assert checks(grade(tmp_path / "busy"))["training_time"]["status"] == "pass"




def test_metrics_match_their_textbook_definitions():
    suite = METRICS
    from sklearn.metrics import average_precision_score, roc_auc_score

    truth = [int(r["churned"]) for r in LABELS]
    scores = [round(float(r["true_probability"]), 2) for r in LABELS]  # rounded: many ties
    assert math.isclose(suite.average_precision(truth, scores), average_precision_score(truth, scores), abs_tol=1e-9)
    assert math.isclose(suite.roc_auc(truth, scores), roc_auc_score(truth, scores), abs_tol=1e-9)
    assert suite.expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], bins=2) == 0.0
    assert math.isclose(suite.expected_calibration_error([0, 0, 1, 1], [0.0, 0.0, 0.0, 0.0], bins=2), 0.5)
