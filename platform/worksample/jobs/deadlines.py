"""Deadline jobs: at an attempt's deadline, submit it and tear its pod down.

Two mechanisms, because the clock must never depend on one process:
- a job scheduled in RQ for the deadline itself (run by the worker's scheduler),
  replaced when an admin extends the deadline (the old one finds nothing due);
- a sweep over the database (`worksample.workspace.submit.expire_due_attempts`)
  that the API runs at start-up and every few seconds, so a deadline that passed
  while Redis or every platform process was down is handled when they return.
"""

from __future__ import annotations

import logging
from datetime import datetime

from rq import Queue

from worksample.errors import RedisUnavailable
from worksample.jobs import DEFAULT_QUEUE, connection

log = logging.getLogger(__name__)


def schedule_deadline(attempt_id: str, deadline: datetime) -> str | None:
    """Schedule `expire_attempt(attempt_id)` at `deadline`; the job id, or None if Redis is down (the sweep covers it)."""
    try:
        queue = Queue(DEFAULT_QUEUE, connection=connection())
        job = queue.enqueue_at(deadline, expire_attempt, attempt_id,
                               job_id=f"deadline-{attempt_id}-{int(deadline.timestamp())}", job_timeout=600)
    except RedisUnavailable as exc:
        log.warning("attempt %s: deadline not scheduled in Redis (%s); the sweep will submit it", attempt_id, exc)
        return None
    return job.id


def expire_attempt(attempt_id: str) -> str | None:
    """Job body: submit the attempt if its deadline has passed; the submission id or None."""
    from worksample.workspace.submit import expire_attempt as expire

    return expire(attempt_id)
