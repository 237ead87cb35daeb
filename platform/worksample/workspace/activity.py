"""What the candidate did, for reviewers: cells run, saves, kernel restarts.

Recorded by the platform's proxy, not by a server extension in the image: the
proxy already sees every kernel message the browser sends and every save
request, it needs no change to the sandbox image, and code running in the
sandbox cannot edit the record. Events are appended to `Attempt.activity`.

Kernel websocket frames come in two encodings: JSON text (the legacy protocol)
and the binary `v1.kernel.websocket.jupyter.org` protocol, which JupyterLab 4
uses when the server offers it. Both are parsed here; anything unparsable is
ignored (activity is best-effort observation, never a reason to drop a frame).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from sqlalchemy import select

from worksample.db import Attempt, session_scope

log = logging.getLogger(__name__)

MAX_EVENTS = 20_000  # a cap so a runaway client cannot grow the row without bound
_RESTART = re.compile(r"(?:^|/)api/kernels/[^/]+/restart$")
_CONTENTS = re.compile(r"(?:^|/)api/contents/(.+)$")


def record(attempt_id: str, event: dict[str, Any]) -> None:
    """Append one event (with `ts`, unix seconds) to the attempt's activity."""
    event = {"ts": round(time.time(), 3), **event}
    with session_scope() as db:
        row = db.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
        if row is None or len(row.activity or []) >= MAX_EVENTS:
            return
        row.activity = [*(row.activity or []), event]  # a new list so SQLAlchemy sees the change


def events(attempt_id: str) -> list[dict]:
    """The attempt's activity, oldest first."""
    with session_scope() as db:
        row = db.get(Attempt, attempt_id)
        return list(row.activity or []) if row else []


def http_event(method: str, subpath: str, status: int) -> dict | None:
    """The activity event a proxied HTTP request stands for (a save, a kernel restart), if any."""
    if status >= 400:
        return None
    if method == "POST" and _RESTART.search(subpath):
        return {"kind": "kernel_restart"}
    match = _CONTENTS.search(subpath)
    if method == "PUT" and match:
        return {"kind": "save", "path": match.group(1)[:300]}
    return None


def parse_kernel_frame(frame: str | bytes) -> tuple[str | None, dict]:
    """(channel, message) of a kernel websocket frame in either encoding; (None, {}) if unreadable."""
    try:
        if isinstance(frame, str):
            msg = json.loads(frame)
            return msg.get("channel"), msg
        return _parse_v1(frame)
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
        return None, {}


def _parse_v1(frame: bytes) -> tuple[str | None, dict]:
    # Layout: count n (u64 LE), then n offsets (u64 LE); part 0 is the channel, parts 1..4 are
    # header, parent_header, metadata, content (JSON), the rest binary buffers.
    count = int.from_bytes(frame[:8], "little")
    if not 5 <= count <= 1024:
        return None, {}
    offsets = [int.from_bytes(frame[8 * (i + 1): 8 * (i + 2)], "little") for i in range(count)] + [len(frame)]
    parts = [frame[offsets[i]:offsets[i + 1]] for i in range(count)]
    channel = parts[0].decode()
    header, _parent, metadata, content = (json.loads(p) for p in parts[1:5])
    return channel, {"header": header, "metadata": metadata, "content": content}


def execute_event(frame: str | bytes) -> dict | None:
    """The `cell_executed` event for a browser→kernel frame that runs code, else None."""
    channel, msg = parse_kernel_frame(frame)
    header = msg.get("header") or {}
    if channel != "shell" or header.get("msg_type") != "execute_request":
        return None
    code = (msg.get("content") or {}).get("code", "")
    cell_id = (msg.get("metadata") or {}).get("cellId")
    return {"kind": "cell_executed", "cell_id": str(cell_id)[:100] if cell_id else None,
            "code_bytes": len(code.encode("utf-8", "replace")) if isinstance(code, str) else 0}
