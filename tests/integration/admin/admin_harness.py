"""Helpers for the admin-console integration tests: worker processes and polling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


class Workers:
    """`worksample worker` processes started by a test; stopped (and their logs kept) at the end."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, **env: str) -> subprocess.Popen:
        """Start one worker with the test's environment plus `env`."""
        full = {**os.environ, **env}
        with open(self.data_dir / f"worker-{len(self.procs)}.log", "wb") as log:
            proc = subprocess.Popen([str(VENV_BIN / "worksample"), "worker", "--reap-every", "2"], env=full,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Kill a worker and its whole process group (its work horse and reaper too)."""
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def logs(self) -> str:
        """Every worker's output so far."""
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.data_dir.glob("worker-*.log")))

    def stop_all(self) -> None:
        """Stop every worker this test started."""
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc, signal.SIGTERM)


def wait_for(predicate, timeout: float, every: float = 0.2, what: str = "condition"):
    """Poll `predicate` until truthy (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
