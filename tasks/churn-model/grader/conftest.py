"""Fixtures of the churn-model suite: the hidden score month, its labels, the curve levels, the candidate's CSV
(from the run and from the second run that task.yaml's `grading.rerun` asks for).

Everything is read as data with size caps (worksample_grader.runfolder); the
candidate's CSV is parsed, never executed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from worksample_grader import runfolder as rf
from worksample_grader.calibration import read_calibration

PREDICTIONS = "predictions.csv"
COLUMNS = ("customer_id", "churn_probability")


@dataclass
class Predictions:
    """The candidate's predictions.csv, parsed: valid probabilities by customer and what was wrong."""

    header: list[str]
    by_customer: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line per kind of defect, with an example


@pytest.fixture(scope="session")
def score_rows(hidden_data: Path) -> dict[str, dict]:
    """The hidden score month the notebook was run on (holdout/score.csv), by customer id."""
    _, rows = rf.read_csv_rows(hidden_data / "holdout" / "score.csv")
    return {row["customer_id"]: row for row in rows}


@pytest.fixture(scope="session")
def labels(hidden_data: Path) -> dict[str, int]:
    """Whether each scored customer churned the month after (score_labels.csv), by customer id."""
    _, rows = rf.read_csv_rows(hidden_data / "score_labels.csv")
    return {row["customer_id"]: int(row["churned"]) for row in rows}


@pytest.fixture(scope="session")
def calibration(hidden_data: Path) -> dict:
    """The curve levels: naive ranking (no points) and the reference (full points); see tools/calibrate.py."""
    return read_calibration(hidden_data)


def parse_predictions(header: list[str], rows: list[dict], expected: set[str]) -> Predictions:
    """Valid probabilities by customer id, and a description of every defect (missing, extra, invalid, repeated)."""
    out = Predictions(header)
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        out.problems.append(f"missing column(s) {', '.join(absent)} (header: {', '.join(header) or 'none'})")
        return out
    invalid, repeated, unknown = [], [], []
    for row in rows:
        cid = str(row.get("customer_id") or "").strip()
        raw = str(row.get("churn_probability") or "").strip()
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            invalid.append(f"{cid}={raw[:20]!r}")
        elif cid not in expected:
            unknown.append(cid[:20])
        elif cid in out.by_customer:
            repeated.append(cid)
        else:
            out.by_customer[cid] = value
    missing = sorted(expected - set(out.by_customer) - {i.split("=", 1)[0] for i in invalid})
    for what, items in (("not a probability in [0, 1]", invalid), ("not in score.csv", unknown),
                        ("repeated", repeated), ("missing", missing)):
        if items:
            out.problems.append(f"{len(items)} row(s) {what} (e.g. {', '.join(items[:3])})")
    return out


def _read_predictions(outputs: Path, score_rows: dict[str, dict]) -> Predictions:
    """outputs/predictions.csv parsed; RunFolderError-like reasons come back as the message of a ValueError."""
    path = outputs / PREDICTIONS
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"outputs/{PREDICTIONS} was not produced")
    try:
        header, rows = rf.read_csv_rows(path)
    except rf.RunFolderError as exc:  # over the size cap, not UTF-8, not CSV: the candidate's outcome
        raise ValueError(f"outputs/{PREDICTIONS}: {str(exc).split(': ', 1)[-1]}") from None
    return parse_predictions(header, rows, set(score_rows))


@pytest.fixture(scope="session")
def predictions(outputs: Path, score_rows: dict[str, dict]) -> Predictions:
    """The parsed outputs/predictions.csv; fails the check when it is absent or unreadable."""
    try:
        return _read_predictions(outputs, score_rows)
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def rerun_predictions(rerun_outputs: Path, score_rows: dict[str, dict]) -> Predictions:
    """The parsed outputs/predictions.csv of the second run; an absent or unreadable file is one of its
    problems (the check comparing the runs fails with it rather than erroring)."""
    try:
        return _read_predictions(rerun_outputs, score_rows)
    except ValueError as exc:
        return Predictions([], problems=[str(exc)])
