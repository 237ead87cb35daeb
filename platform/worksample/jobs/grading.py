"""Grading jobs on the `grading` queue (the job body lives in worksample.grading.grade).

Retries: the job raises only for infrastructure faults (after giving its claim
back), so RQ's bounded retry policy below applies to those alone; the tries
count in the database bounds them too, across Redis restarts.
"""

from __future__ import annotations

from rq import Queue, Retry
from rq.job import Job

from worksample.jobs import GRADING_QUEUE, connection
from worksample.timeouts import DEFAULT_JOB_S

RETRY_INTERVALS = [5, 20]  # seconds before the 2nd and 3rd tries (MAX_TRIES = 3)


def enqueue_grading(submission_id: str, job_timeout: int = DEFAULT_JOB_S) -> str:
    """Queue the grading of a submission whose row and artifacts already exist; returns the job id.

    `job_timeout` is the task's rung of the timeout ladder (`worksample.timeouts`); the default
    is long enough for any task that validates.
    """
    queue = Queue(GRADING_QUEUE, connection=connection())
    job = queue.enqueue("worksample.grading.grade.grade_submission", submission_id, job_timeout=job_timeout,
                        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
                        description=f"grade submission {submission_id}")
    return job.id


def enqueue_reconcile() -> str:
    """Queue one reconciler pass (re-enqueue submissions left queued or running after a loss)."""
    queue = Queue(GRADING_QUEUE, connection=connection())
    job = queue.enqueue("worksample.grading.grade.reconcile", job_timeout=120)
    return job.id


def pending_submission_ids() -> set[str]:
    """Submissions that already have a grading job waiting, scheduled for retry, or running."""
    queue = Queue(GRADING_QUEUE, connection=connection())
    job_ids = set(queue.job_ids) | set(queue.scheduled_job_registry.get_job_ids()) \
        | set(queue.started_job_registry.get_job_ids())
    pending = set()
    for job in Job.fetch_many(list(job_ids), connection=queue.connection):
        if job is not None and job.func_name.endswith("grade_submission") and job.args:
            pending.add(str(job.args[0]))
    return pending


def queued_job_count() -> int:
    """How many jobs wait on the grading queue (for status pages and tests)."""
    return len(Queue(GRADING_QUEUE, connection=connection()))
