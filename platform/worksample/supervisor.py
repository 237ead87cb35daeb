"""Child processes for `worksample up`: start, watch, and stop them all.

Children run in their own sessions (Ctrl-C reaches only us, and we stop them in
order) and die with us even if we are SIGKILLed (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Supervisor:
    """Owns a list of child processes and stops them in reverse start order."""

    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
        """Start `argv` as a named child; output goes to `log` when given, else ours."""
        out = open(log, "ab") if log else None
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        if out:
            out.close()
        self.children.append((name, proc))
        return proc

    def dead(self) -> list[tuple[str, int]]:
        """Children that have exited, with their exit codes."""
        return [(name, p.returncode) for name, p in self.children if p.poll() is not None]

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every child (newest first), wait up to `grace` s, then SIGKILL the rest."""
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + grace
        for _name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.children.clear()
