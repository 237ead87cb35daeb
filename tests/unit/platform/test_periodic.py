"""`Periodic`: beats on a daemon thread while the block runs, none after it; a failing beat is reported and the next comes."""

from __future__ import annotations

import threading
import time

import pytest

from worksample.periodic import Periodic

pytestmark = pytest.mark.timeout(30)


def test_beats_while_the_block_runs_and_a_failing_beat_is_reported_not_fatal():
    beats: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def beat() -> None:
        with lock:
            beats.append(time.monotonic())
            if len(beats) == 2:
                raise ConnectionError("Redis blip")

    def failed() -> None:
        import sys

        failures.append(type(sys.exc_info()[1]).__name__)  # called inside the except: the traceback is there

    with Periodic(beat, 0.02, "test-beat", failed=failed, join_s=2) as ticker:
        assert ticker._thread.daemon and ticker._thread.name == "test-beat"
        deadline = time.monotonic() + 10
        while len(beats) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    with lock:
        seen = len(beats)
    assert seen >= 4 and failures == ["ConnectionError"]
    time.sleep(0.1)
    assert len(beats) == seen  # stopped with the block
    assert not ticker._thread.is_alive()
