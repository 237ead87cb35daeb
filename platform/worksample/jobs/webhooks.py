"""Webhook delivery jobs (the job body is worksample.webhooks.delivery.drain) on the default queue.

A drain job makes every due try (see worksample.webhooks.delivery). One is
queued when events are emitted (unless one already waits), one is scheduled
for the time of each retry, and the reconciler queues one for overdue tries;
the database says what is due, so a lost or duplicate job loses or repeats nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from rq import Queue

from worksample.jobs import DEFAULT_QUEUE, connection

# The default queue, which every worker serves. A drain holds a worker at most DRAIN_BUDGET_S; deadlines
# do not wait on it alone (the API's sweep expires attempts too).
WEBHOOK_QUEUE = DEFAULT_QUEUE
DRAIN = "worksample.webhooks.delivery.drain"


def _queue() -> Queue:
    return Queue(WEBHOOK_QUEUE, connection=connection())


def _timeout() -> int:
    from worksample.webhooks.delivery import DRAIN_BUDGET_S

    from worksample.config import get_settings

    # The drain's own budget, plus one try's network timeouts (connect, send, read) and room for the database.
    return int(DRAIN_BUDGET_S + get_settings().webhook_timeout_s * 3 + 30)


def enqueue_drain(delay_s: float = 0.0) -> str | None:
    """Queue a drain now (unless one already waits) or schedule one in `delay_s`; its job id or None.

    Raises RedisUnavailable when Redis is away (callers log it: the database keeps what is due).
    """
    queue = _queue()
    if delay_s <= 0:
        if drain_waiting():  # a waiting drain will see everything committed before it starts
            return None
        job = queue.enqueue(DRAIN, job_timeout=_timeout(), result_ttl=300, failure_ttl=86400,
                            job_id=f"webhook-drain-{uuid.uuid4().hex[:12]}", description="webhook deliveries due now")
        return job.id
    # Retries due in the same second share one scheduled drain (same job id: RQ keeps one).
    at = datetime.now(timezone.utc) + timedelta(seconds=int(delay_s) + 1)
    job = queue.enqueue_at(at.replace(microsecond=0), DRAIN, job_timeout=_timeout(), result_ttl=300,
                           failure_ttl=86400, job_id=f"webhook-drain-at-{int(at.timestamp())}",
                           description="webhook retries due")
    return job.id


def drain_waiting() -> bool:
    """True if a drain job waits in the queue (a running one may belong to a killed worker: not counted)."""
    queue = _queue()
    return any(job_id.startswith("webhook-drain-") for job_id in queue.get_job_ids(0, 1000))


