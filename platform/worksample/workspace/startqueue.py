"""The start queue: at most `limit` cold pod starts at once on this host; more Starts wait in line, first come first served.

Why a line: a cold start (containers, the mock, JupyterLab importing its
extensions) is a few CPU-seconds. Twenty at once on two cores left every one
past its readiness limits (the mock not listening within 30 s, JupyterLab not
within 90 s) and all twenty failed; in line, each start gets the CPU it needs
and the last one is ready sooner than any was in the stampede.

Who waits how:
- a Start is a coroutine in the API's event loop and waits with `slot()`: no
  thread is held while it waits (the thread pool serves every page and the proxy);
- the warm pool's filler is a thread and never waits: `spare_slot()` grants
  it a slot only when no Start is waiting or starting, so candidates come
  first (a pool pod made during a burst would serve none of it: every Start in
  the burst has already missed the pool).

The line is bounded (`max_waiting`): past it a Start is refused with
`StartQueueFull`, which carries a Retry-After estimate. This module knows
nothing of pods; `worksample.workspace.starts` uses it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from worksample.errors import DomainError

DEFAULT_START_S = 10.0  # the estimate before any start was measured here (an idle host takes ~2.5 s)


class StartQueueFull(DomainError):
    """Too many Starts are already waiting for a pod on this host; `retry_after_s` says when to try again."""

    http_status = 503

    def __init__(self, waiting: int, retry_after_s: int) -> None:
        self.waiting = waiting
        self.retry_after_s = retry_after_s
        super().__init__(f"{waiting} workspaces are already waiting to start on this host; "
                         f"try again in about {retry_after_s} s")


@dataclass(eq=False)
class _Ticket:
    key: str
    wake: Callable[[], None] = lambda: None
    granted: bool = False
    granted_at: float = 0.0  # monotonic
    spare: bool = False  # the warm pool's, not a candidate's
    enqueued_at: float = field(default_factory=time.monotonic)


class StartQueue:
    """A first-come-first-served gate of `limit` slots with at most `max_waiting` in line. Thread-safe."""

    def __init__(self, limit: int, max_waiting: int) -> None:
        if limit < 1 or max_waiting < 0:
            raise ValueError(f"limit must be >= 1 and max_waiting >= 0 (got {limit}, {max_waiting})")
        self.limit = limit
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._running: set[_Ticket] = set()
        self._waiting: deque[_Ticket] = deque()
        self._durations: deque[float] = deque(maxlen=20)  # recent slot hold times, for estimates
        self.peak_running = 0
        self.granted_total = 0

    # --- Starts (coroutines) ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[float]:
        """Wait in line for a slot (holding no thread), hold it for the body; yields the seconds waited.

        Raises StartQueueFull (at once) when `max_waiting` are already in line. A waiter that is cancelled
        leaves the line (or gives back a slot granted in that instant).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(lambda: future.done() or future.set_result(None))
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

        ticket = self._enqueue(key, wake)
        try:
            if not ticket.granted:
                await future
        except BaseException:
            self._abandon(ticket)
            raise
        waited = ticket.granted_at - ticket.enqueued_at
        ok = False
        try:
            yield waited
            ok = True
        finally:
            self._release(ticket, measured=ok)

    # --- the warm pool (a thread that never waits) ------------------------------------------------------------

    @contextmanager
    def spare_slot(self, key: str) -> Iterator[bool]:
        """Hold a slot for the body if one is free and no Start waits or starts (yields True), else yield False
        at once."""
        with self._lock:
            busy = any(not ticket.spare for ticket in self._running)
            free = not self._waiting and not busy and len(self._running) < self.limit
            ticket = _Ticket(key, spare=True)
            if free:
                self._grant(ticket)
        if not free:
            yield False
            return
        try:
            yield True
        finally:
            self._release(ticket, measured=False)  # pool pods do not count towards a candidate's estimate

    # --- what the candidate sees -------------------------------------------------------------------------------

    def position(self, key: str) -> int | None:
        """1 for the next in line, 2 for the one after …; 0 while `key` holds a slot; None if neither."""
        with self._lock:
            for index, ticket in enumerate(self._waiting):
                if ticket.key == key:
                    return index + 1
            if any(ticket.key == key for ticket in self._running):
                return 0
        return None

    def estimate_s(self, position: int) -> float:
        """About how long until the start at `position` (1-based in line) is ready: its wait plus its own start."""
        rounds = math.ceil(max(position, 0) / self.limit) + 1
        return rounds * self.typical_start_s()

    def typical_start_s(self) -> float:
        """The mean of the recent cold starts' durations here (DEFAULT_START_S before any)."""
        with self._lock:
            durations = list(self._durations)
        return sum(durations) / len(durations) if durations else DEFAULT_START_S

    def full(self) -> bool:
        """True if a new Start would be refused now (the line holds `max_waiting` and no slot is free)."""
        with self._lock:
            return len(self._running) >= self.limit and len(self._waiting) >= self.max_waiting

    def check_room(self) -> None:
        """Raise StartQueueFull if a new Start would be refused now (before anything is made for it)."""
        with self._lock:
            if len(self._running) >= self.limit and len(self._waiting) >= self.max_waiting:
                raise StartQueueFull(len(self._waiting), self._retry_after(len(self._waiting)))

    def snapshot(self) -> dict:
        """`{"limit", "running", "waiting", "peak_running", "granted_total", "typical_start_s"}`."""
        typical = self.typical_start_s()
        with self._lock:
            return {"limit": self.limit, "running": len(self._running), "waiting": len(self._waiting),
                    "peak_running": self.peak_running, "granted_total": self.granted_total,
                    "typical_start_s": round(typical, 2)}

    # --- internals (all under self._lock, except the wake calls) ----------------------------------------------

    def _enqueue(self, key: str, wake: Callable[[], None]) -> _Ticket:
        ticket = _Ticket(key, wake)
        with self._lock:
            if not self._waiting and len(self._running) < self.limit:
                self._grant(ticket)
                return ticket
            if len(self._waiting) >= self.max_waiting:
                waiting = len(self._waiting)
                retry = self._retry_after(waiting)
                raise StartQueueFull(waiting, retry)
            self._waiting.append(ticket)
        return ticket

    def _retry_after(self, waiting: int) -> int:
        durations = list(self._durations)
        typical = sum(durations) / len(durations) if durations else DEFAULT_START_S
        # Retry when about a tenth of the line has moved on: soon enough, without a stampede of retries.
        return int(min(600, max(5, math.ceil(waiting / 10 / self.limit) * typical)))

    def _grant(self, ticket: _Ticket) -> None:
        ticket.granted = True
        ticket.granted_at = time.monotonic()
        self._running.add(ticket)
        self.granted_total += 1
        self.peak_running = max(self.peak_running, len(self._running))

    def _release(self, ticket: _Ticket, measured: bool) -> None:
        with self._lock:
            if ticket not in self._running:
                return
            self._running.discard(ticket)
            if measured:
                self._durations.append(time.monotonic() - ticket.granted_at)
            woken = self._grant_waiting()
        for wake in woken:
            wake()

    def _abandon(self, ticket: _Ticket) -> None:
        with self._lock:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                return
        self._release(ticket, measured=False)  # granted in the same instant it was cancelled: give it back

    def _grant_waiting(self) -> list[Callable[[], None]]:
        woken = []
        while self._waiting and len(self._running) < self.limit:
            ticket = self._waiting.popleft()
            self._grant(ticket)
            woken.append(ticket.wake)
        return woken
