"""`mock.json` beside the call log: the mock's own record of its life on a log dir.

The platform reads it; the candidate never sees it (the log dir is mounted
into the mock alone). Written whole each time (temp file, then rename), at
start, when memory pressure makes the mock turn requests away (at most once
a second), and when it stops:

    {"started": <unix ts of the first start on this log dir>, "starts": n,
     "pressure": {"since": ts, "refused": n, "rss_mib": x} | null,
     "stopped": {"ts": ts, "reason": "signal" | "memory" | "service_crash", "exit_status": n} | null}

`started` is the run's clock: incidents and the attempt's history survive a
restart of the mock (see recovery.py). A mock that stops itself because a
client's traffic took its memory to `EXIT_RSS_FRACTION` of its cgroup limit
exits with `EXIT_MEMORY` after recording `"reason": "memory"`: the
candidate's outcome, not an infrastructure fault.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

STATE_FILE = "mock.json"
EXIT_MEMORY = 3
SHED_RSS_FRACTION = 0.80  # above this share of the memory limit, new requests get 503 server_busy
EXIT_RSS_FRACTION = 0.95  # above this, the mock records why and exits (before the kernel kills it)
_PAGE = os.sysconf("SC_PAGE_SIZE")


class MockState:
    """The state file of one log dir."""

    def __init__(self, log_dir: Path) -> None:
        self.path = Path(log_dir) / STATE_FILE
        old = _read(self.path)
        self.data = {"started": old.get("started") if isinstance(old.get("started"), (int, float)) else round(time.time(), 6),
                     "starts": int(old.get("starts", 0) or 0) + 1, "pressure": None, "stopped": None}
        self._written_at = 0.0
        self.write()

    @property
    def started(self) -> float:
        """Unix time of the first start of a mock on this log dir."""
        return float(self.data["started"])

    def write(self) -> None:
        """Write the file whole (readers see the old one or the new one)."""
        tmp = self.path.with_name(STATE_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(self.data) + "\n")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a full disk must not take the API down; the call log is the evidence
        self._written_at = time.monotonic()

    def pressure(self, refused: int, rss: int) -> None:
        """Record that requests are being turned away for memory (file refreshed at most once a second)."""
        if self.data["pressure"] is None:
            self.data["pressure"] = {"since": round(time.time(), 6), "refused": 0, "rss_mib": 0.0}
        self.data["pressure"].update(refused=refused, rss_mib=round(rss / 1024**2, 1))
        if time.monotonic() - self._written_at >= 1.0:
            self.write()

    def stopped(self, reason: str, exit_status: int, detail: str | None = None) -> None:
        """Record why the mock stops."""
        self.data["stopped"] = {"ts": round(time.time(), 6), "reason": reason, "exit_status": exit_status}
        if detail:
            self.data["stopped"]["detail"] = detail
        self.write()


class MemoryGuard:
    """RSS against the cgroup's memory limit: shed load near it, stop cleanly before the kernel kills."""

    def __init__(self, limit_bytes: int | None = None) -> None:
        self.limit = limit_bytes if limit_bytes is not None else cgroup_memory_limit()
        try:
            self._statm = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self._statm = None

    def rss(self) -> int:
        """Resident bytes of this process (0 if unknown)."""
        if self._statm is None:
            return 0
        try:
            return int(os.pread(self._statm, 128, 0).split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def level(self) -> tuple[str, int]:
        """("ok" | "shed" | "exit", rss bytes)."""
        if not self.limit:
            return "ok", 0
        rss = self.rss()
        if rss >= self.limit * EXIT_RSS_FRACTION:
            return "exit", rss
        if rss >= self.limit * SHED_RSS_FRACTION:
            return "shed", rss
        return "ok", rss


def cgroup_memory_limit() -> int | None:
    """The memory limit of this process's cgroup (v2 or v1), or None when there is none."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
