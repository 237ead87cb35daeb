"""A beat on a daemon thread while a block runs: the grading heartbeat and the job watchdog's beat."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    """`with Periodic(beat, every, ...)`: a daemon thread calls `beat()` every `every` seconds until the
    block ends (then waits at most `join_s` for it). A beat that raises calls `failed()` inside the
    `except` (so it can log the traceback) and the next beat still comes: one missed beat is no verdict."""

    def __init__(self, beat: Callable[[], object], every: float, name: str, failed: Callable[[], None],
                 join_s: float) -> None:
        self._beat, self._every, self._failed, self._join_s = beat, every, failed, join_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=name)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._beat()
            except Exception:  # see the class docstring: the caller logs, the loop goes on
                self._failed()

    def __enter__(self) -> Periodic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self._join_s)
