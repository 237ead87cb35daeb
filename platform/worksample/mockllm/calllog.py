"""The mock's logs: `calls.jsonl` (one line per request) and `bodies.jsonl` beside it.

Each line is written with one `os.write` on an O_APPEND descriptor before the
response's last byte is sent, so a killed mock loses nothing it already
answered, and lines never interleave. Bodies are size-capped and stored as a
JSON string when they are not a JSON object, so garbage cannot corrupt a line.

Both files are capped (`log_cap`: at most the process's file-size limit, so a
write never meets EFBIG). The log is *full* once bodies.jsonl cannot take
the next body or calls.jsonl is within `HEADROOM` of its cap (room kept for
the lines of requests already in flight). Full is a state, never a silent
loss: one last record `{"request_id": "log_full", "status": 507, "fault":
"log_full", "reason": ...}` goes into calls.jsonl (space reserved for it),
`log_full.json` is written beside it, and from then on the server refuses
every request (507, code `log_full`) instead of answering without evidence.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

# DESIGN §6's fields, then the mock's own (see exchange.call_record).
CALL_FIELDS = (
    "ts", "request_id", "key_hash", "model", "status", "fault", "prompt_tokens",
    "completion_tokens", "cost_usd", "latency_ms", "retry_after_s", "request_hash", "in_flight",
    "logical_hash", "paid_index", "charged_tokens", "attempt", "rank",
)
BODY_CAP = 64 * 1024
# Per-file cap when the process has no file-size limit (the platform's pods set one).
DEFAULT_LOG_CAP = 64 * 1024**2
# A call line is at most this long (the client's model string is cut to fit).
MAX_CALL_LINE = 2048
# Requests the server has in flight at most (the server enforces it), times
# their longest line: the calls log stops admitting requests this far below
# its cap so every request already admitted still gets its line.
MAX_IN_FLIGHT = 128
HEADROOM = MAX_IN_FLIGHT * MAX_CALL_LINE
MARKER_RESERVE = 1024
LOG_FULL_ID = "log_full"
LOG_FULL_STATUS = 507
LOG_FULL_FILE = "log_full.json"
# ASCII-only lines: a literal U+2028 inside a JSON string is valid JSON, but
# str.splitlines() (which graders may use) would cut the line there.
_DUMP = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


class LogFull(Exception):
    """The log has reached its cap: nothing more may be answered."""


def log_cap(requested: int | None = None) -> int:
    """Bytes each log file may hold: `requested` (or the default), never above RLIMIT_FSIZE."""
    cap = requested or DEFAULT_LOG_CAP
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        cap = min(cap, soft)
    return cap


class CallLog:
    """Append-only writer for calls.jsonl and bodies.jsonl, each capped at `cap` bytes."""

    def __init__(self, calls_path: str | Path, *, cap: int | None = None) -> None:
        self.calls_path = Path(calls_path).resolve()
        self.bodies_path = self.calls_path.with_name("bodies.jsonl")
        self.marker_path = self.calls_path.with_name(LOG_FULL_FILE)
        self.calls_path.parent.mkdir(parents=True, exist_ok=True)
        self.cap = log_cap(cap)
        if self.cap < HEADROOM + MARKER_RESERVE + BODY_CAP * 2:
            raise ValueError(f"log cap {self.cap} bytes is too small for the mock's logs")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        self._calls = os.open(self.calls_path, flags, 0o644)
        self._bodies = os.open(self.bodies_path, flags, 0o644)
        self.calls_size = os.fstat(self._calls).st_size
        self.bodies_size = os.fstat(self._bodies).st_size
        self.full: dict | None = _read_marker(self.marker_path)
        self.refused = int(self.full.get("refused", 0)) if self.full else 0
        self._marker_written_at = 0.0

    # -- state --------------------------------------------------------------

    def admits(self) -> bool:
        """True while a new request may be served (enters the full state when not)."""
        if self.full is None and self.calls_size > self.cap - HEADROOM - MARKER_RESERVE:
            self.mark_full(f"calls.jsonl reached its cap of {self.cap} bytes")
        return self.full is None

    def mark_full(self, reason: str) -> None:
        """Enter the full state (once): the log_full record, then the marker file."""
        if self.full is not None:
            return
        self.full = {"since": round(time.time(), 6), "reason": reason, "cap_bytes": self.cap, "refused": 0}
        record = {k: None for k in CALL_FIELDS} | {
            "ts": self.full["since"], "request_id": LOG_FULL_ID, "status": LOG_FULL_STATUS, "fault": "log_full",
            "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "latency_ms": 0.0,
            "request_hash": "", "in_flight": 0, "reason": reason[:200]}
        line = (_DUMP(record) + "\n").encode()
        if self.calls_size + len(line) <= self.cap:  # the reserve keeps room for it
            os.write(self._calls, line)
            self.calls_size += len(line)
        self._write_marker()

    def refuse(self) -> None:
        """Count one request refused because the log is full (the marker is refreshed at most once a second)."""
        self.refused += 1
        if time.monotonic() - self._marker_written_at >= 1.0:
            self._write_marker()

    def _write_marker(self) -> None:
        if self.full is None:
            return
        self.full["refused"] = self.refused
        tmp = self.marker_path.with_name(LOG_FULL_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(self.full) + "\n")
            os.replace(tmp, self.marker_path)  # readers see the old marker or the new one, never half
        except OSError:
            pass  # the log_full record in calls.jsonl already says it
        self._marker_written_at = time.monotonic()

    # -- writing ------------------------------------------------------------

    def write_call(self, record: dict) -> None:
        """Write one call line with exactly CALL_FIELDS, in order.

        Raises LogFull if even the headroom is used up (the caller must then
        not deliver the answer).
        """
        line = _DUMP({k: record.get(k) for k in CALL_FIELDS}) + "\n"
        if len(line) > MAX_CALL_LINE:  # only a client's model string can make it long
            line = _DUMP({k: record.get(k) for k in CALL_FIELDS} | {"model": str(record.get("model"))[:32]}) + "\n"
        data = line.encode()
        if self.calls_size + len(data) > self.cap - MARKER_RESERVE:
            self.mark_full(f"calls.jsonl reached its cap of {self.cap} bytes")
            raise LogFull("calls.jsonl is full")
        os.write(self._calls, data)
        self.calls_size += len(data)

    def write_body(self, request_id: str, raw: bytes, parsed: object) -> None:
        """Write one body line: the JSON body if it is an object under the cap, else capped text.

        Raises LogFull (and enters the full state) when bodies.jsonl cannot take it.
        """
        truncated = len(raw) > BODY_CAP
        if isinstance(parsed, dict) and not truncated and raw.isascii() and b"\n" not in raw and b"\r" not in raw:
            # Already ASCII JSON on one line: splice it in, no re-encoding.
            data = b'{"request_id":"' + request_id.encode() + b'","truncated":false,"body":' + raw + b"}\n"
        else:
            body: object = parsed if isinstance(parsed, dict) and not truncated else raw[:BODY_CAP].decode("utf-8", "replace")
            data = (_DUMP({"request_id": request_id, "truncated": truncated, "body": body}) + "\n").encode()
        if self.bodies_size + len(data) > self.cap:
            self.mark_full(f"bodies.jsonl reached its cap of {self.cap} bytes")
            raise LogFull("bodies.jsonl is full")
        os.write(self._bodies, data)
        self.bodies_size += len(data)

    def close(self) -> None:
        """Refresh the marker (refusal count) and close both files."""
        self._write_marker()
        for fd in (self._calls, self._bodies):
            try:
                os.close(fd)
            except OSError:
                pass


def log_full_message(cap: int) -> str:
    """The error message of a request refused because the log is full."""
    return (f"The request log of this mock API is full (its cap is {cap} bytes), so it answers no more requests: "
            "every answer must be logged. Send fewer or smaller requests.")


def _read_marker(path: Path) -> dict | None:
    """The full state left by an earlier run on this log dir, if any."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
