"""What the queues hold, for the operations page and /metrics: depths, workers, failed jobs, retry.

Read-only except `retry_failed`. Every call raises RedisUnavailable when Redis is away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from worksample.jobs import DEFAULT_QUEUE, GRADING_QUEUE, connection

QUEUES = (GRADING_QUEUE, DEFAULT_QUEUE)


@dataclass(frozen=True)
class QueueDepth:
    """How many jobs of one queue are waiting, scheduled, running and failed."""

    name: str
    queued: int
    scheduled: int
    started: int
    failed: int


@dataclass(frozen=True)
class WorkerView:
    """A live worker and what it works on."""

    name: str
    hostname: str
    pid: int | None
    state: str
    queues: list[str]
    current_job: str | None
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class FailedJob:
    """A job that ended in failure (after its retries)."""

    id: str
    queue: str
    description: str
    ended_at: datetime | None
    error: str


def _aware(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=timezone.utc) if ts is not None and ts.tzinfo is None else ts


def queue_depths() -> list[QueueDepth]:
    """Depths of every platform queue."""
    conn = connection()
    depths = []
    for name in QUEUES:
        queue = Queue(name, connection=conn)
        depths.append(QueueDepth(name, len(queue), queue.scheduled_job_registry.count,
                                 queue.started_job_registry.count, queue.failed_job_registry.count))
    return depths


def workers() -> list[WorkerView]:
    """Every worker registered in Redis (RQ drops a worker whose heartbeat expired)."""
    conn = connection()
    found = []
    for worker in Worker.all(connection=conn):
        job = worker.get_current_job()
        current = f"{job.description or job.func_name} ({job.id})" if job is not None else None
        found.append(WorkerView(worker.name, worker.hostname or "?", worker.pid, worker.get_state(),
                                worker.queue_names(), current, _aware(worker.last_heartbeat)))
    return sorted(found, key=lambda w: w.name)


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def failed_jobs(limit: int = 50) -> list[FailedJob]:
    """The newest failed jobs of every queue (at most `limit`)."""
    conn = connection()
    failed = []
    for name in QUEUES:
        registry = FailedJobRegistry(name, connection=conn)
        ids = registry.get_job_ids(0, limit - 1, desc=True)
        for job in Job.fetch_many(ids, connection=conn):
            if job is None:
                continue
            result = job.latest_result()
            error = _last_line(result.exc_string if result is not None else None)
            failed.append(FailedJob(job.id, name, job.description or job.func_name, _aware(job.ended_at), error))
    failed.sort(key=lambda j: j.ended_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    return failed[:limit]


def retry_failed(job_id: str) -> bool:
    """Put a failed job back on its queue; False if it is not (any more) in a failed registry."""
    conn = connection()
    for name in QUEUES:
        registry = FailedJobRegistry(name, connection=conn)
        if job_id in registry.get_job_ids():
            try:
                registry.requeue(job_id)
            except (NoSuchJobError, InvalidJobOperation):
                return False
            return True
    return False
