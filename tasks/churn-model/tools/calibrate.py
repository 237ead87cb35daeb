"""Place the grader's PR-AUC curve: the naive rankings' level (no points) and the reference's (full points).

    python tasks/churn-model/tools/calibrate.py

Writes grader/data/calibration.json. Both levels are exact, since no LLM is
involved and the reference is seeded:
- naive: the best of one-column rankings a hurried analyst would try (fewest
  logins, fewest active users, most support tickets, most payment failures)
  on the hidden score month;
- reference: the reference notebook's code run as a script on the hidden
  data (grader/data/holdout/ as data/), scored on the hidden labels, minus a
  small margin for numerical differences between this machine and the
  notebook image.
Run it after changing the data or the reference; it takes about a minute.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
HIDDEN = TASK_DIR / "grader" / "data"
OUT = HIDDEN / "calibration.json"
MARGIN = 0.01  # numpy/sklearn builds may move the reference's PR-AUC in the third decimal
sys.path.insert(0, str(TASK_DIR.parents[1] / "graders"))

from worksample_grader.tasktools import code_of, load_module  # noqa: E402

# Loaded by path under names of their own: other tasks' tools and graders have modules of the same names.
build = load_module("tools_churn_model_build_notebooks", TASK_DIR / "tools" / "build_notebooks.py")


def grader_module():
    """The hidden suite's metric functions (one definition of PR-AUC and ECE)."""
    return load_module("churn_metrics", TASK_DIR / "grader" / "metrics.py")


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def naive_levels(metrics) -> dict[str, float]:
    """PR-AUC of each one-column ranking on the hidden score month."""
    labels = {r["customer_id"]: int(r["churned"]) for r in _rows(HIDDEN / "score_labels.csv")}
    score = {r["customer_id"]: r for r in _rows(HIDDEN / "holdout" / "score.csv")}
    ids = sorted(labels)
    truth = [labels[i] for i in ids]
    rankings = {"fewest_logins": lambda r: -float(r["logins"]), "fewest_active_users": lambda r: -float(r["active_users"]),
                "most_support_tickets": lambda r: float(r["support_tickets"]),
                "most_payment_failures": lambda r: float(r["payment_failures"])}
    return {name: round(metrics.average_precision(truth, [key(score[i]) for i in ids]), 4)
            for name, key in rankings.items()}


def run_reference(metrics) -> dict[str, float]:
    """Run the reference's code on the hidden data in a scratch workspace; its PR-AUC, ECE and time."""
    code = code_of(build.source_of("solution"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(HIDDEN / "holdout", work / "data")
        (work / "reference.py").write_text(code)
        start = time.monotonic()
        subprocess.run([sys.executable, "reference.py"], cwd=work, check=True, capture_output=True, timeout=600)
        seconds = time.monotonic() - start
        preds = {r["customer_id"]: float(r["churn_probability"]) for r in _rows(work / "outputs" / "predictions.csv")}
    labels = {r["customer_id"]: int(r["churned"]) for r in _rows(HIDDEN / "score_labels.csv")}
    ids = sorted(labels)
    truth, scores = [labels[i] for i in ids], [preds[i] for i in ids]
    return {"measured_pr_auc": round(metrics.average_precision(truth, scores), 4),
            "ece": round(metrics.expected_calibration_error(truth, scores), 4),
            "mean_over_rate": round(sum(scores) / sum(truth), 3), "seconds": round(seconds, 1)}


def main() -> None:
    """Measure both levels and write calibration.json."""
    metrics = grader_module()
    naive = naive_levels(metrics)
    ref = run_reference(metrics)
    body = {"naive": {"pr_auc": max(naive.values()), "approaches": naive},
            "reference": {"pr_auc": round(ref["measured_pr_auc"] - MARGIN, 4), **ref},
            "note": "written by tools/calibrate.py; regenerate after changing the data or the reference"}
    OUT.write_text(json.dumps(body, indent=1) + "\n")
    print(json.dumps(body, indent=1))


if __name__ == "__main__":
    main()
