"""The worker's watchdog: a job whose work horse shows no progress is killed, logged and recorded.

The work horse reports progress in Redis (`mark`): when it starts, once the
job's function is imported, and then every few seconds while the function
runs (`Beat`); job code may `mark` its own stages too. The worker's main
process (which only waits for the horse) checks the last mark at every
monitoring interval; a job silent for longer than `stall_after` is *stalled*
(the defect this exists for: a horse blocked forever on an import lock it
inherited). The watchdog then kills the horse, so RQ's bounded retry takes
over, and records the stall where an operator sees it: an ERROR line in the
worker log and an entry in a capped Redis list that `worksample up` prints
on its console (`recent_stalls` reads it for any other page).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass

from redis import Redis

from worksample.periodic import Periodic

log = logging.getLogger(__name__)

PROGRESS_KEY = "worksample:progress:{job_id}"
STALLS_KEY = "worksample:watchdog:stalls"
STALLS_KEPT = 100
BEAT_S = 5.0  # how often a running horse says it is alive; stall_after must be several beats


@dataclass(frozen=True)
class Stall:
    """One job the watchdog gave up on."""

    job_id: str
    description: str
    stage: str  # the last stage the horse reported ("spawned": it never reported one)
    silent_s: float
    horse_pid: int
    at: float  # unix time the watchdog acted


def mark(conn: Redis, job_id: str, stage: str) -> None:
    """Record that `job_id` made progress (now) and is in `stage`; called from the work horse."""
    key = PROGRESS_KEY.format(job_id=job_id)
    conn.set(key, json.dumps({"stage": stage, "at": time.time()}), ex=24 * 3600)


def last_progress(conn: Redis, job_id: str) -> tuple[str, float] | None:
    """The last (stage, unix time) the job's horse reported, or None if it never did."""
    raw = conn.get(PROGRESS_KEY.format(job_id=job_id))
    if not raw:
        return None
    data = json.loads(raw)
    return str(data["stage"]), float(data["at"])


def forget(conn: Redis, job_id: str) -> None:
    """Drop a job's progress record (a new run of the job starts from nothing)."""
    conn.delete(PROGRESS_KEY.format(job_id=job_id))


def silent_for(conn: Redis, job_id: str, horse_started: float, now: float | None = None) -> tuple[str, float]:
    """(last stage, seconds since the horse last showed progress, or since it was started)."""
    now = time.time() if now is None else now
    progress = last_progress(conn, job_id)
    if progress is None or progress[1] < horse_started:
        return "spawned", now - horse_started
    return progress[0], now - progress[1]


def record_stall(conn: Redis, stall: Stall) -> None:
    """Log the stall and keep it in the capped list operators read."""
    log.error("watchdog: job %s (%s) made no progress for %.0f s in stage %r; killing its work horse (pid %d) "
              "so the queue retries it", stall.job_id, stall.description, stall.silent_s, stall.stage,
              stall.horse_pid)
    try:
        with conn.pipeline() as pipe:
            pipe.lpush(STALLS_KEY, json.dumps(asdict(stall)))
            pipe.ltrim(STALLS_KEY, 0, STALLS_KEPT - 1)
            pipe.execute()
    except Exception:  # Redis away: the log line above still says it
        log.exception("watchdog: could not record the stall in Redis")


def recent_stalls(conn: Redis, limit: int = 20) -> list[Stall]:
    """The newest stalls first (at most `limit`)."""
    return [Stall(**json.loads(raw)) for raw in conn.lrange(STALLS_KEY, 0, max(0, limit - 1))]


class Beat(Periodic):
    """In the work horse: a daemon thread that marks the job `running` every BEAT_S while it runs."""

    def __init__(self, conn: Redis, job_id: str, every: float = BEAT_S) -> None:
        # Redis blip: several missed beats are needed to look stalled
        super().__init__(lambda: mark(conn, job_id, "running"), every, "watchdog-beat",
                         failed=lambda: log.warning("watchdog beat for job %s failed", job_id, exc_info=True),
                         join_s=2)
