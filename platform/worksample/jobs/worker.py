"""The worker process: an RQ worker on our queues and a periodic sandbox reaper."""

from __future__ import annotations

import logging
import threading

from rq import Queue, Worker

from worksample.jobs import DEFAULT_QUEUE, GRADING_QUEUE, connection

log = logging.getLogger(__name__)


def _reconcile() -> None:
    from worksample.grading.jobs import reconcile

    try:
        reconcile()
    except Exception:  # Redis or the database away: the next pass retries
        log.exception("grading reconciler pass failed")


def _reaper_loop(every: float, stop: threading.Event) -> None:
    from worksample.sandbox import reap

    _reconcile()  # submissions left queued/running by a previous worker or a lost Redis
    while not stop.wait(every):
        try:
            reap()
        except Exception:  # the reaper must outlive a flaky engine; the next pass retries
            log.exception("sandbox reaper pass failed")
        _reconcile()


def run_worker(burst: bool = False, reap_every: float = 30.0) -> None:
    """Work the grading and default queues until stopped (or empty with `burst`)."""
    conn = connection()
    stop = threading.Event()
    if reap_every > 0 and not burst:
        threading.Thread(target=_reaper_loop, args=(reap_every, stop), daemon=True, name="reaper").start()
    queues = [Queue(GRADING_QUEUE, connection=conn), Queue(DEFAULT_QUEUE, connection=conn)]
    try:
        Worker(queues, connection=conn).work(burst=burst, with_scheduler=True)
    finally:
        stop.set()
