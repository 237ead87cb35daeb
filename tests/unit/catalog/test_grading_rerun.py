"""`grading.rerun` in task.yaml: validated strictly, and the timeout ladder holds with the second run."""

from __future__ import annotations

from pathlib import Path

import pytest

from task_yaml import problems, set_grading
from worksample.catalog import load_task

pytestmark = pytest.mark.timeout(30)


def test_rerun_is_off_unless_asked_for_and_doubles_the_runs(task: Path):
    assert load_task(task).grading.rerun is False and load_task(task).grading.runs == 1
    set_grading(task, rerun=True)
    assert problems(task) == []
    assert load_task(task).grading.rerun is True and load_task(task).grading.runs == 2


@pytest.mark.parametrize("value", ["yes please", 2, "true", [True]])
def test_rerun_must_be_a_yaml_boolean(task: Path, value):
    set_grading(task, rerun=value)
    found = problems(task)
    assert len(found) == 1 and ": grading.rerun: " in found[0], found


def test_a_timeout_that_fits_once_but_not_twice_is_refused_only_with_rerun(task: Path):
    from worksample.timeouts import MAX_RUN_S, max_run_s

    assert max_run_s(1) == MAX_RUN_S
    set_grading(task, timeout=f"{max_run_s(2) + 1}s")
    assert problems(task) == []  # one run of this length fits under the watchdog
    set_grading(task, rerun=True)
    found = problems(task)
    assert len(found) == 1 and ": grading.timeout: " in found[0] and "2 runs (grading.rerun)" in found[0], found
    set_grading(task, timeout=f"{max_run_s(2)}s")
    assert problems(task) == []


@pytest.mark.parametrize("run_s", [20, 600, 1349])
def test_the_ladder_with_a_rerun_keeps_every_run_inside_the_pod_and_the_job(run_s):
    from worksample.timeouts import COLLECT_S, DEFAULT_JOB_S, GRADER_S, POD_START_S, grading_ladder

    once, twice = grading_ladder(run_s), grading_ladder(run_s, runs=2)
    assert once.holds() and twice.holds()
    assert twice.run == once.run and twice.cell == once.cell  # each run keeps the task's own limits
    # The first pod waits (its grader idle) while the second run starts a pod and runs: its deadline covers both.
    assert twice.pod_kill >= 2 * (run_s + POD_START_S) + GRADER_S
    assert twice.job >= twice.pod_kill + 2 * COLLECT_S
    assert twice.job <= DEFAULT_JOB_S  # a job enqueued without its task's ladder still outlives it


def test_one_run_ladder_is_unchanged():
    from worksample.timeouts import COLLECT_S, GRADER_S, POD_START_S, grading_ladder

    ladder = grading_ladder(600)
    assert (ladder.pod_kill, ladder.job, ladder.runs) == (600 + GRADER_S + POD_START_S,
                                                         600 + GRADER_S + POD_START_S + COLLECT_S, 1)
