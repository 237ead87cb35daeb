"""The job queue. The only package that imports `rq`; Redis carries jobs, never truth."""

from __future__ import annotations

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
