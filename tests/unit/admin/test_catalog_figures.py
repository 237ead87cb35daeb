"""The catalog page's pieces: score histogram SVG and the calibration summary."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from worksample.admin.calibration import summarise
from worksample.admin.catalog import TaskFigures, histogram_svg

pytestmark = pytest.mark.timeout(30)


def test_histogram_bins_and_svg():
    task = TaskFigures("t", "T", "llm-engineering", "2h", 70, scores=[0, 9.9, 10, 55, 100, 100])
    assert task.histogram() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    svg = str(task.histogram_svg())
    assert svg.startswith("<svg") and svg.count("<rect") == 10 and "pass threshold 70" in svg
    assert "style=" not in svg  # the staff CSP allows no inline styles
    assert str(histogram_svg([0] * 10)).count('height="0.0"') == 10  # empty data draws flat bars, no division by 0


def test_pass_rate_and_median_time():
    task = TaskFigures("t", "T", "mlops", "1h", 70, scores=[80, 20], passed=1, time_used_s=[600, 1200, 3000])
    assert task.pass_rate == 0.5 and task.median_time_s == 1200
    assert TaskFigures("u", "U", "agentic", "1h", None).pass_rate is None


def test_calibration_summary_takes_worst_reference_and_best_baseline():
    row = {"ok": False, "seeds": 2, "problems": ["baseline lookup passed under seed 1"],
           "created_at": datetime(2026, 11, 29, 19, 40, tzinfo=timezone.utc),
           "results": [{"candidate": "solution", "seed": 0, "score": 90, "max_score": 100},
                       {"candidate": "solution", "seed": 1, "score": 80, "max_score": 100},
                       {"candidate": "lookup", "seed": 0, "score": 50, "max_score": 100},
                       {"candidate": "lookup", "seed": 1, "score": 72, "max_score": 100}]}
    summary = summarise(row)
    assert summary.reference_pct == 80 and summary.baselines == {"lookup": 72}
    assert summary.summary == "FAILED 2026-11-29 19:40 UTC, 2 seeds: reference 80 %; baselines lookup 72 %"
