"""Webhook delivery jobs on the `webhooks` queue (the job body is worksample.webhooks.delivery.run_try).

One job per try, with a deterministic id (`webhook-<delivery>-<n>`), so the
reconciler can ask whether a try is already waiting; retries are new jobs
scheduled by the failed try itself (RQ's scheduler runs them), so the delays
come from settings and survive in the database if Redis is lost.
"""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from worksample.jobs import connection

WEBHOOK_QUEUE = "webhooks"
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}


def job_id(delivery_id: str, number: int) -> str:
    """The RQ job id of try `number` of a delivery."""
    return f"webhook-{delivery_id}-{number}"


def _timeout() -> int:
    from worksample.config import get_settings

    # Above the per-operation network timeout (connect, send, read) plus the database work.
    return int(get_settings().webhook_timeout_s * 3 + 10)


def enqueue_try(delivery_id: str, number: int, delay_s: float = 0.0) -> str:
    """Queue try `number` of a delivery now or after `delay_s`; returns the job id. Raises RedisUnavailable."""
    queue = Queue(WEBHOOK_QUEUE, connection=connection())
    kwargs = dict(job_id=job_id(delivery_id, number), job_timeout=_timeout(), result_ttl=600, failure_ttl=86400,
                  description=f"webhook delivery {delivery_id} try {number}")
    func = "worksample.webhooks.delivery.run_try"
    if delay_s > 0:
        queue.enqueue_in(timedelta(seconds=delay_s), func, delivery_id, number, **kwargs)
    else:
        queue.enqueue(func, delivery_id, number, **kwargs)
    return kwargs["job_id"]


def try_is_waiting(delivery_id: str, number: int) -> bool:
    """True if try `number` is queued, scheduled or running in RQ."""
    try:
        job = Job.fetch(job_id(delivery_id, number), connection=connection())
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in WAITING


def queue_length() -> int:
    """Jobs waiting on the webhooks queue now (scheduled retries not counted)."""
    return len(Queue(WEBHOOK_QUEUE, connection=connection()))
