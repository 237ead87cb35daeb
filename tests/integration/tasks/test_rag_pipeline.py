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

from graded_reports import assert_fails_what_it_names, assert_within_budget, grade_reference

TASK = Path(__file__).resolve().parents[3] / "tasks" / "rag-repair"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_reference_passes_and_the_half_fixed_starter_fails_what_it_left(grade):
    reference = grade_reference(grade, TASK)
    assert reference["score"] >= 0.95 * reference["max_score"], reference["score"]
    assert_within_budget(reference, TASK)

    half = grade(TASK / "baselines" / "half_fixed")
    assert half["run"]["status"] == "completed", half["run"]
    checks = assert_fails_what_it_names(half, TASK / "baselines" / "half_fixed")
    assert checks["answers_present"]["status"] == "pass"  # a complete deliverable: it is the answers that fail
    assert "the very same answer" in checks["similar_questions_answered_apart"]["message"]
    assert not half["passed"] and half["score"] < reference["score"]
