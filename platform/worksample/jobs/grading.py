"""Grading jobs on the `grading` queue (the job body lives in worksample.grading.jobs)."""

from __future__ import annotations

from rq import Queue

from worksample.jobs import GRADING_QUEUE, connection


def enqueue_grading(submission_id: str) -> str:
    """Queue the grading of a submission whose row and artifacts already exist; returns the job id."""
    queue = Queue(GRADING_QUEUE, connection=connection())
    job = queue.enqueue("worksample.grading.jobs.grade_submission", submission_id, job_timeout=1800)
    return job.id
