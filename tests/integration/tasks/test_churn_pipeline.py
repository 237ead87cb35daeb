"""churn-model through the real grading pipeline: notebook pod on the hidden month, hidden suite in the grader.

The full calibration (reference + five baselines) is `worksample task test
tasks/churn-model`; here the reference and the leaky baseline run, the pair
that shows the hidden month doing its job: the same pipeline with and
without the leaking column.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TASK = Path(__file__).resolve().parents[3] / "tasks" / "churn-model"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _checks(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


@pytest.mark.timeout(600)
def test_reference_earns_full_points_on_the_later_month(grade):
    report = grade(TASK / "solution")
    failing = {k: c["message"] for k, c in _checks(report).items() if c["status"] != "pass"}
    assert report["run"]["status"] == "completed", report["run"]
    assert report["passed"] and not failing, failing
    assert report["score"] == report["max_score"]
    assert report["llm"]["calls"] == 0  # the task needs no LLM: the pod's mock stays idle


@pytest.mark.timeout(600)
def test_leaky_baseline_is_caught_by_the_later_month(grade):
    spec = yaml.safe_load((TASK / "baselines" / "leaky" / "baseline.yaml").read_text())
    report = grade(TASK / "baselines" / "leaky")
    checks = _checks(report)
    assert report["run"]["status"] == "completed", report["run"]
    assert all(checks[name]["status"] != "pass" for name in spec["expect_fail"]), {n: checks[n] for n in spec["expect_fail"]}
    assert "relies on the leak" in checks["leak_not_used"]["message"]
    assert checks["predictions_complete"]["status"] == "pass"  # a complete, valid deliverable: it is the model that fails
    assert not report["passed"]
