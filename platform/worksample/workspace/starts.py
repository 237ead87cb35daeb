"""Bringing an attempt's workspace up: at once from its running pod or a warm pool pod, else through the start queue.

One bring-up per attempt at a time: the Start request, the workspace page's
progress poll and the proxy all join the same one. It runs as a task in the
API's event loop, so a Start waiting its turn holds no thread (the thread pool
serves every page and proxied request; a burst of Starts blocking in it would
stall them all), and a browser that goes away does not cancel it.

1. A pod that runs and answers, or a warm pool pod claimed at Start: used at
   once, no queue (a warm claim must stay sub-second).
2. Otherwise a cold pod: wait for a slot of this host's `StartQueue`
   (WORKSAMPLE_START_CONCURRENCY at once), then start it. Readiness limits
   (mock 30 s, JupyterLab 90 s) count from the pod's creation, inside the slot.

The attempt's clock starts when its first pod answers (`attempts.ensure_attempt_pod`),
so the line costs the candidate none of their time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from worksample.config import get_settings
from worksample.workspace.pods import Jupyter, read_jupyter
from worksample.workspace.startqueue import StartQueue, StartQueueFull

log = logging.getLogger(__name__)

FAILED_SHOWN_S = 10.0  # a failed bring-up is shown this long; the page's next poll then tries again
MAX_FAILED = 10_000  # bound on remembered failures (each is a few bytes)

_inflight: dict[str, asyncio.Task] = {}
_failed: dict[str, tuple[float, str]] = {}
_queues: dict[tuple, StartQueue] = {}


@dataclass(frozen=True)
class Progress:
    """Where an attempt's workspace is, as the candidate's page shows it."""

    state: str  # ready | queued | starting | failed | stopped (no pod and nothing starting it)
    position: int | None = None  # in line, 1 = next
    estimate_s: float | None = None  # about how long until it answers
    message: str | None = None

    def public(self) -> dict:
        """The `workspace` object of the attempt's JSON."""
        return {"state": self.state, "position": self.position,
                "estimate_s": round(self.estimate_s) if self.estimate_s is not None else None,
                "message": self.message}


def start_queue() -> StartQueue:
    """This host's start queue (one per data dir and settings; the settings `start_concurrency` and
    `start_queue_max`)."""
    settings = get_settings()
    key = (str(settings.resolved_data_dir), settings.start_concurrency, settings.start_queue_max)
    queue = _queues.get(key)
    if queue is None:
        queue = _queues.setdefault(key, StartQueue(settings.start_concurrency, settings.start_queue_max))
    return queue


def begin(attempt_id: str) -> asyncio.Task:
    """The attempt's bring-up in flight, started now if there is none. Call from the event loop."""
    loop = asyncio.get_running_loop()
    task = _inflight.get(attempt_id)
    if task is None or task.done() or task.get_loop() is not loop:
        task = loop.create_task(_bring_up(attempt_id), name=f"bring-up {attempt_id}")
        _inflight[attempt_id] = task
        task.add_done_callback(lambda done: _finished(attempt_id, done))
    return task


async def ready(attempt_id: str, wait_s: float) -> Jupyter | None:
    """The attempt's JupyterLab once its bring-up is done, or None if it is not done within `wait_s`
    (it goes on). Raises what the bring-up raised: AttemptClosed, StartQueueFull, PodNotReady,
    DockerUnavailable, ImageMissing."""
    task = begin(attempt_id)
    done, _ = await asyncio.wait({task}, timeout=wait_s)  # never cancels the bring-up itself
    return task.result() if done else None


async def _bring_up(attempt_id: str) -> Jupyter:
    """1. a running or warm pod, no queue; 2. else a cold pod, in line for a slot."""
    from worksample.workspace.attempts import ensure_attempt_pod

    jupyter = await run_in_threadpool(ensure_attempt_pod, attempt_id, False)
    if jupyter is not None:
        return jupyter
    async with start_queue().slot(attempt_id) as waited:
        return await run_in_threadpool(ensure_attempt_pod, attempt_id, True, waited)


def _finished(attempt_id: str, task: asyncio.Task) -> None:
    if _inflight.get(attempt_id) is task:
        del _inflight[attempt_id]
    if task.cancelled():
        return
    exc = task.exception()  # retrieved here, so an unawaited failure is never "never retrieved"
    if exc is None:
        _failed.pop(attempt_id, None)
        return
    from worksample.workspace import AttemptClosed, AttemptElsewhere

    if isinstance(exc, (AttemptClosed, AttemptElsewhere)):  # ended, or another host's: nothing to start here
        return
    log.error("attempt %s: workspace did not start: %s", attempt_id, exc)
    if len(_failed) >= MAX_FAILED:
        _failed.clear()
    _failed[attempt_id] = (time.monotonic(), _candidate_message(exc))


def _candidate_message(exc: BaseException) -> str:
    """What the candidate reads when a start failed (the log has the details)."""
    if isinstance(exc, StartQueueFull):
        return f"Many candidates are starting right now; trying again in about {exc.retry_after_s} s."
    return "Your workspace could not be started; trying again."


def progress(attempt_id: str) -> Progress:
    """Where the attempt's workspace is now (no Docker call: the bring-up's state, the queue, pod.json)."""
    task = _inflight.get(attempt_id)
    if task is not None and not task.done():
        queue = start_queue()
        position = queue.position(attempt_id)
        if position:
            return Progress("queued", position, queue.estimate_s(position))
        return Progress("starting", estimate_s=queue.typical_start_s() if position == 0 else None)
    failed = _failed.get(attempt_id)
    if failed is not None and time.monotonic() - failed[0] < FAILED_SHOWN_S:
        return Progress("failed", message=failed[1])
    if read_jupyter(attempt_id) is not None:
        return Progress("ready")
    return Progress("stopped")


async def current(attempt_id: str) -> Progress:
    """`progress`, starting a bring-up when the workspace has no pod and nothing is starting one (a failed
    start shown long enough, or an API restart); for a running attempt's progress poll."""
    now = await run_in_threadpool(progress, attempt_id)
    if now.state != "stopped":
        return now
    begin(attempt_id)
    return await run_in_threadpool(progress, attempt_id)
