"""The queue gives a grading job longer than the task gives its pod (the timeout ladder), whatever the task says."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.redis]


def test_a_30_minute_grading_gets_a_job_timeout_above_its_pod(db, redis_url, tmp_path, minitask):
    from rq.job import Job

    from worksample.grading import submissions
    from worksample.grading.grade import queue_grading
    from worksample.grading.runner import GRADER_TIMEOUT
    from worksample.jobs import connection
    from worksample.timeouts import WATCHDOG_S, grading_ladder

    folder = minitask.make_task(tmp_path / "tasks", timeout="30m")
    task = submissions.register_task(folder)
    artifacts = tmp_path / "sub"
    minitask.submission(artifacts / "workspace", minitask.GOOD_CELLS)
    sid = submissions.create_submission(task, artifacts)

    job = Job.fetch(queue_grading(sid), connection=connection())
    pod_kill = grading_ladder(30 * 60).pod_kill
    assert job.timeout > 30 * 60 + GRADER_TIMEOUT  # the run and the hidden suite fit in the job...
    assert pod_kill < job.timeout < WATCHDOG_S  # ...and the pod is killed before the job is


def test_a_grading_with_a_rerun_gets_a_job_timeout_above_both_runs(db, redis_url, tmp_path, minitask):
    from rq.job import Job

    from worksample.grading import submissions
    from worksample.grading.grade import queue_grading
    from worksample.grading.runner import GRADER_TIMEOUT
    from worksample.jobs import connection
    from worksample.timeouts import WATCHDOG_S, grading_ladder

    folder = minitask.make_task(tmp_path / "tasks", timeout="20m")
    spec = folder / "task.yaml"
    spec.write_text(spec.read_text().replace("timeout: 20m,", "timeout: 20m, rerun: true,"))
    task = submissions.register_task(folder)
    assert task.spec["grading"]["rerun"] is True
    artifacts = tmp_path / "sub"
    minitask.submission(artifacts / "workspace", minitask.GOOD_CELLS)
    sid = submissions.create_submission(task, artifacts)

    job = Job.fetch(queue_grading(sid), connection=connection())
    assert job.timeout > 2 * 20 * 60 + GRADER_TIMEOUT  # both runs and the hidden suite fit in the job...
    assert grading_ladder(20 * 60, runs=2).pod_kill < job.timeout < WATCHDOG_S  # ...and the first pod dies first
