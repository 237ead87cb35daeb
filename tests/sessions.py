"""Stopping a process the tests started in its own session (a platform command, a private dockerd)."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_session(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
    """Send `sig` to `proc` and wait; if it is still there after `timeout`, SIGKILL its whole session."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
