"""Child processes for `worksample up`: start, watch, and stop them all, in order, leaving none behind.

Children run in their own sessions (Ctrl-C reaches only us, and we stop them in
order) and die with us even if we are SIGKILLed (PR_SET_PDEATHSIG). We are
also a *child subreaper* (PR_SET_CHILD_SUBREAPER): a grandchild whose parent
dies (an RQ work horse, the worker's scheduler or reaper) is re-parented to
us, not to init, so the final sweep in `stop` finds and ends it.
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
PR_SET_CHILD_SUBREAPER = 36


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def become_subreaper() -> None:
    """Orphaned descendants become our children (Linux), so none outlives `up`."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)


def descendants(pid: int | None = None) -> set[int]:
    """Every live descendant of `pid` (default: this process), read from /proc."""
    root = os.getpid() if pid is None else pid
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


@dataclass
class Supervisor:
    """Owns named child processes in tiers; stops the tiers in reverse start order, one after the other."""

    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    tiers: dict[str, str] = field(default_factory=dict)  # child name -> tier (default: its own name)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None, log: Path | None = None,
              tier: str | None = None) -> subprocess.Popen:
        """Start `argv` as a named child in `tier` (stopped together); output goes to `log` when given, else ours."""
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
        self.tiers[name] = tier or name
        return proc

    def dead(self) -> list[tuple[str, int]]:
        """Children that have exited, with their exit codes."""
        return [(name, p.returncode) for name, p in self.children if p.poll() is not None]

    def stop(self, grace: float = 10.0) -> tuple[list[str], list[str]]:
        """Stop tiers newest first, each before the next, then end any descendant left.

        The children of a tier get SIGTERM together and `grace` seconds, then
        SIGKILL for their whole process group. Tier order matters: a worker
        stopped after Redis logs connection errors; an API stopped after the
        workers may still queue work. Returns (what was forced, "tier N.N s" each).
        """
        forced, took = [], []
        order = list(dict.fromkeys(self.tiers[name] for name, _ in reversed(self.children)))
        for tier in order:
            began = time.monotonic()
            procs = [(name, proc) for name, proc in self.children if self.tiers[name] == tier]
            for _name, proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            deadline = began + grace
            for name, proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    forced.append(name)
                self._kill_group(proc.pid)  # what the child left in its own group (a forked helper)
                proc.wait()
            took.append(f"{tier} {time.monotonic() - began:.1f} s")
        self.children.clear()
        forced += self._sweep()
        return forced, took

    @staticmethod
    def _kill_group(pgid: int) -> None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    def _sweep() -> list[str]:
        """SIGKILL every descendant still alive (an orphan re-parented to us) and reap it."""
        left = []
        for pid in descendants():
            try:
                left.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80])
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
        return [f"orphan: {cmd}" for cmd in left]
