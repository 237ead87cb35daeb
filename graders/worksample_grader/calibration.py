"""A task's calibration: the levels its `tools/calibrate.py` measured, and the cost check scored against them.

Suites score quality on curves from a naive level to the reference's, and cost
against the reference's spend on the same grading profile. A task's
`tools/calibrate.py` measures those levels and writes them to
`grader/data/calibration.json` (the hidden data folder); this module reads that
file and holds the cost check suites share. Standard library plus pytest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worksample_grader import runfolder as rf
from worksample_grader.scoring import falling

CALIBRATION_FILE = "calibration.json"


def read_calibration(hidden_data: Path) -> dict:
    """The task's calibration.json from its hidden data folder, as a dict.

    A missing file fails the calling check as a task authoring error; a file that
    is not JSON raises `runfolder.RunFolderError` naming it.
    """
    path = hidden_data / CALIBRATION_FILE
    if not path.is_file():
        pytest.fail(f"task authoring error: {path.name} is missing (run tools/calibrate.py)", pytrace=False)
    return rf.read_json(path)


def score_cost(check, llm_log, count: int, unit: str, reference: float, full_at: float, zero_at: float) -> None:
    """Scale `check` by the model spend per `unit` (all calls of `llm_log` over `count` units) against
    `reference`, the reference's spend per unit: full points at or below `full_at` times it, none at or
    above `zero_at` times, linear in between.

    Raises AssertionError (the check fails) at `zero_at` times or more; its message gives the figures.
    """
    spent = sum(c.cost_usd for c in llm_log.calls)
    per_unit = spent / count
    ratio = per_unit / reference
    fraction = falling(ratio, full_at, zero_at)
    message = f"${per_unit:.6f} per {unit}, {ratio:.2f}× the reference's ${reference:.6f} (total ${spent:.4f})"
    assert fraction > 0, f"{message}: {zero_at:g}× or more"
    check.scale(fraction, message)
