"""rag-repair through the real grading pipeline: notebook pod on the hidden edition, grading mock with the
task's oracle, hidden suite and llm_resilience in the grader container.

The full calibration (reference + six baselines) is `worksample task test
tasks/rag-repair`; here one test grades the reference and the half-fixed
baseline: the same starter with three of six defects repaired must not pass,
and must fail on what it left (the prefix cache, no "I don't know").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TASK = Path(__file__).resolve().parents[3] / "tasks" / "rag-repair"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _checks(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


@pytest.mark.timeout(900)
def test_reference_passes_and_the_half_fixed_starter_fails_what_it_left(grade):
    reference = grade(TASK / "solution")
    failing = {k: c["message"] for k, c in _checks(reference).items() if c["status"] != "pass"}
    assert reference["run"]["status"] == "completed", reference["run"]
    assert reference["passed"] and not failing, failing
    assert reference["score"] >= 0.95 * reference["max_score"], reference["score"]
    assert reference["llm"]["cost_usd"] <= yaml.safe_load((TASK / "profiles" / "grading.yaml").read_text())["budget_usd"]

    spec = yaml.safe_load((TASK / "baselines" / "half_fixed" / "baseline.yaml").read_text())
    half = grade(TASK / "baselines" / "half_fixed")
    checks = _checks(half)
    assert half["run"]["status"] == "completed", half["run"]
    assert all(checks[name]["status"] != "pass" for name in spec["expect_fail"]), {n: checks[n] for n in spec["expect_fail"]}
    assert checks["answers_present"]["status"] == "pass"  # a complete deliverable: it is the answers that fail
    assert "the very same answer" in checks["similar_questions_answered_apart"]["message"]
    assert not half["passed"] and half["score"] < reference["score"]
