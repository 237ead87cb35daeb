"""The job queue: transport only. The only package that imports `rq`; Redis carries jobs, never truth.

Jobs name their body by dotted path (`worksample.workspace.deadlines.expire_attempt`),
so this package imports no domain module: the domain calls the queue, never the reverse.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from redis import Redis

from worksample.config import get_settings
from worksample.errors import RedisUnavailable

GRADING_QUEUE = "grading"
DEFAULT_QUEUE = "default"


@lru_cache(maxsize=4)
def _redis(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def redis_url() -> str:
    """REDIS_URL, or a clear error saying how to get one."""
    url = get_settings().redis_url
    if not url:
        raise RedisUnavailable("Redis is not configured: set REDIS_URL, or run `worksample up`, which starts its own")
    return url


def connection() -> Redis:
    """A live Redis connection, or `RedisUnavailable` naming the URL and what to run."""
    url = redis_url()
    conn = _redis(url)
    try:
        conn.ping()
    except Exception as exc:  # redis raises several connection error types
        conn.close()
        _redis.cache_clear()
        raise RedisUnavailable(
            f"Redis is not reachable at {url} ({type(exc).__name__}); start redis-server or run `worksample up`"
        ) from exc
    return conn


def redis_status() -> str:
    """'ok' when Redis answers, else the reason (for /healthz)."""
    try:
        connection()
    except RedisUnavailable as exc:
        return str(exc)
    return "ok"


def schedule_at(when: datetime, func: str, *args: object, job_id: str, timeout: int) -> str:
    """Run the job body at dotted path `func` with `args` at `when` (the worker's scheduler); its job id.

    A job with the same `job_id` is replaced. Raises RedisUnavailable.
    """
    from rq import Queue

    job = Queue(DEFAULT_QUEUE, connection=connection()).enqueue_at(when, func, *args, job_id=job_id,
                                                                   job_timeout=timeout)
    return job.id
