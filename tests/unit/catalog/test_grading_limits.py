"""`task validate` refuses a grading the platform cannot run: a timeout the ladder cannot hold, an unknown suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from task_yaml import problems, set_grading


def test_an_unknown_included_suite_fails_validation_not_grading(task: Path):
    set_grading(task, include=["llm_resilience", "no_such_suite"])
    found = problems(task)
    assert len(found) == 1, found
    assert found[0].endswith(": grading.include.1: unknown suite 'no_such_suite' (known: llm_resilience)")


def test_a_known_suite_validates(task: Path):
    set_grading(task, include=["llm_resilience"])
    assert problems(task) == []


def test_a_grading_timeout_the_ladder_cannot_hold_is_refused(task: Path):
    set_grading(task, timeout="60m")
    found = problems(task)
    assert len(found) == 1 and ": grading.timeout: 3600s is too long" in found[0], found


def test_the_longest_grading_timeout_that_validates_still_fits_the_ladder(task: Path):
    from worksample.timeouts import MAX_RUN_S, WATCHDOG_S, grading_ladder

    set_grading(task, timeout=f"{MAX_RUN_S}s")
    assert problems(task) == []
    ladder = grading_ladder(MAX_RUN_S)
    assert ladder.cell <= ladder.run < ladder.pod_kill < ladder.job < ladder.watchdog == WATCHDOG_S
    set_grading(task, timeout=f"{MAX_RUN_S + 1}s")
    assert any("grading.timeout" in p for p in problems(task))


@pytest.mark.parametrize("run_s", [20, 600, 900, 1800])
def test_every_rung_is_harder_than_the_one_inside(run_s):
    from worksample.timeouts import grading_ladder

    ladder = grading_ladder(run_s)
    assert ladder.holds()
    assert ladder.cell == min(600, run_s)
