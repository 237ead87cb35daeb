"""Executing a notebook cell by cell in a pod's kernel, from the host, over jupyter-client `ipc`.

What the kernel does is observed here, on the host: the outputs recorded are
the messages the kernel sent, not anything the candidate's code wrote to disk.
Whatever the code does — raise, `sys.exit`, `os._exit`, kill its kernel, loop
forever, flood stdout, send forged, replayed, malformed or over-size messages
(the kernel holds the signing key, so a signature proves nothing) — ends up as
data in a `RunRecord`, never as an exception out of `execute_notebook`.
Outputs are rebuilt from the messages field by field (text only, capped), so
nothing deep or odd the kernel sent reaches the notebook file.

Timeouts are layered: a cell's limit (`cell_timeout`) < the run's limit
(`total_timeout`) < the pod's deadline (reaper) < the job timeout.
"""

from __future__ import annotations

import json
import queue
import time
import traceback
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import nbformat

OUTPUT_CAP = 256 * 1024  # bytes of recorded output per cell; the rest is counted and dropped
NOTEBOOK_OUTPUT_CAP = 4 * 1024**2
POLL_S = 0.5
IDLE_GRACE_S = 2.0
# What a hostile kernel can make jupyter-client raise while it decodes a message: a replayed
# signature (ValueError: Duplicate Signature), a bad one, broken JSON or UTF-8, too few parts,
# a header without msg_type, nesting deeper than the JSON decoder allows.
BAD_MESSAGE = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)
OUTPUT_KINDS = ("stream", "display_data", "execute_result", "error", "update_display_data")


class RunStatus(str, Enum):
    """How the run of a notebook ended (DESIGN §9 `run.status`)."""

    completed = "completed"
    timeout = "timeout"
    crashed = "crashed"
    error = "error"


@dataclass
class RunRecord:
    """The run's outcome: status, duration, cells executed, errors (one line each)."""

    status: RunStatus = RunStatus.completed
    duration_s: float = 0.0
    cells: int = 0
    errors: list[str] = field(default_factory=list)
    output_truncated: bool = False
    bad_messages: int = 0

    def public(self) -> dict:
        """The report's `run` block."""
        return {"status": self.status.value, "duration_s": round(self.duration_s, 3), "cells": self.cells,
                "errors": self.errors[:20], "output_truncated": self.output_truncated}


@dataclass
class _CellOutcome:
    status: str  # ok | error | timeout | dead
    error: str = ""
    truncated: bool = False


def load_notebook(path, name: str = "notebook"):
    """Read an nbformat v4 notebook and check the shape the runner relies on.

    Returns the notebook with every cell's `source` as one string. Raises
    ValueError naming the file (and cell) when it is not a notebook we can run:
    nbformat only logs schema errors, so a cell whose source is a number would
    otherwise fail later, as an exception, mid-grading.
    """
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and unicode errors alike
        raise ValueError(f"{name}: not a readable Jupyter notebook ({type(exc).__name__}: {exc})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{name}: not a Jupyter notebook (no list of cells)")
    for index, cell in enumerate(cells, start=1):
        _check_cell(cell, f"{name}: cell {index}")
    return nb


def _check_cell(cell, where: str) -> None:
    if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
        raise ValueError(f"{where}: not a notebook cell (no cell_type)")
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise ValueError(f"{where}: source is {type(source).__name__}, not text")
    cell["source"] = source
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None


def execute_notebook(nb, client, kernel_alive: Callable[[], bool], cell_timeout: float,
                     total_timeout: float, dropped: Callable[[], dict[str, int]] | None = None) -> RunRecord:
    """Run every code cell of `nb` (as returned by `load_notebook`) in order through `client`,
    recording outputs into `nb`.

    Stops at the first cell that errors, times out or kills the kernel.
    `kernel_alive()` is polled while waiting so a dead kernel is seen at once.
    `dropped()` says how many times each channel ("iopub", "shell") lost its
    connection because the kernel sent a message over the runner's size cap.
    """
    record = RunRecord()
    started = time.monotonic()
    budget = [NOTEBOOK_OUTPUT_CAP]
    watch = _DropWatch(dropped, record)
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        remaining = total_timeout - (time.monotonic() - started)
        if remaining <= 0:
            record.status = RunStatus.timeout
            record.errors.append(f"run exceeded {total_timeout:.0f}s")
            break
        outcome = _run_cell(cell, client, kernel_alive, min(cell_timeout, remaining), budget, watch)
        record.cells += 1
        record.output_truncated |= outcome.truncated
        if outcome.status != "ok":
            record.status = RunStatus.timeout if outcome.status == "timeout" else RunStatus.crashed
            record.errors.append(f"cell {record.cells}: {outcome.error}")
            break
    if record.bad_messages:
        record.errors.append(f"{record.bad_messages} malformed, forged or replayed kernel message(s) were ignored")
    record.duration_s = time.monotonic() - started
    return record


class _DropWatch:
    """Turns the channels' disconnect counts into run errors.

    A kernel that dies also disconnects its channels, so a drop is only noted
    when the cell did not end with the kernel dead.
    """

    def __init__(self, dropped: Callable[[], dict[str, int]] | None, record: RunRecord) -> None:
        self._dropped = dropped
        self._seen: dict[str, int] = {}
        self.pending: set[str] = set()
        self.record = record

    def check(self) -> set[str]:
        """The channels that dropped their connection since the last call (kept pending until `settle`)."""
        if self._dropped is None:
            return set()
        now = self._dropped()
        fresh = {ch for ch, n in now.items() if n > self._seen.get(ch, 0)}
        self._seen.update(now)
        self.pending |= fresh
        return fresh

    def settle(self, kernel_died: bool) -> None:
        """At the end of a cell: note pending drops in the record, unless the kernel died."""
        self.check()
        if "iopub" in self.pending and not kernel_died and hasattr(self._dropped, "resync"):
            self._dropped.resync()  # the renewed iopub socket must hear the kernel before the next cell
        if not kernel_died:
            for channel in sorted(self.pending):
                note = f"the kernel sent a message over the runner's size cap on {channel}; it was dropped"
                if note not in self.record.errors:
                    self.record.errors.append(note)
                self.record.output_truncated = True
        self.pending.clear()


def _run_cell(cell, client, kernel_alive, timeout: float, budget: list[int], watch: _DropWatch) -> _CellOutcome:
    state = {"idle": False, "reply": None, "size": 0, "truncated": False, "bad": 0, "heard": time.monotonic()}
    outcome = _wait_cell(cell, client, kernel_alive, timeout, budget, watch, state)
    watch.record.bad_messages += state["bad"]
    watch.settle(kernel_died=outcome.status == "dead" and "died" in outcome.error)
    return outcome


def _wait_cell(cell, client, kernel_alive, timeout: float, budget: list[int], watch: _DropWatch,
               state: dict) -> _CellOutcome:
    cell.outputs = []
    cell.execution_count = None
    msg_id = client.execute(cell.source, store_history=True, allow_stdin=False, stop_on_error=True)
    deadline = time.monotonic() + timeout
    while not (state["idle"] and state["reply"] is not None):
        now = time.monotonic()
        if state["reply"] is not None and now - state["heard"] > IDLE_GRACE_S:
            break  # replied, then silence: the `idle` status was lost (dropped connection, full queue)
        if now > deadline:
            return _CellOutcome("timeout", f"timed out after {timeout:.0f}s", state["truncated"])
        got = _next_message(client, state, msg_id, cell, budget)
        if "shell" in watch.check() and state["reply"] is None:
            # The reply may be what was dropped; waiting for it would only run out the clock.
            return _shell_dropped(kernel_alive, state)
        if not got and not kernel_alive():
            return _CellOutcome("dead", "the kernel died (exited or was killed)", state["truncated"])
    reply = state["reply"]
    count = reply.get("execution_count")
    cell.execution_count = count if isinstance(count, int) and not isinstance(count, bool) else None
    if reply.get("status") == "ok":
        return _CellOutcome("ok", truncated=state["truncated"])
    ename, evalue = str(reply.get("ename", "Error"))[:200], str(reply.get("evalue", ""))[:300]
    return _CellOutcome("error", f"{ename}: {evalue}".strip(": "), state["truncated"])


def _shell_dropped(kernel_alive, state: dict) -> _CellOutcome:
    """The shell channel dropped mid-cell: the kernel died, or sent an over-size reply."""
    settle = time.monotonic() + 2.5  # the alive probe asks the engine at most once a second
    while time.monotonic() < settle:
        if not kernel_alive():
            return _CellOutcome("dead", "the kernel died (exited or was killed)", state["truncated"])
        time.sleep(0.25)
    return _CellOutcome("dead", "the kernel's reply was over the runner's size cap", True)


def _next_message(client, state: dict, msg_id: str, cell, budget: list[int]) -> bool:
    """Take one iopub or shell message for this cell; False when none came within POLL_S.

    Output is drained first; the shell reply is looked for only when output
    pauses or the kernel went idle, so a flood is read at full speed. A message
    that cannot be decoded or has the wrong shape is counted in `state["bad"]`
    and skipped (jupyter-client has already taken it off the socket).
    """
    try:
        msg = client.get_iopub_msg(timeout=0.05 if state["idle"] else POLL_S)
        state["heard"] = time.monotonic()
        if _parent_id(msg) == msg_id:
            _record_iopub(msg, state, cell, budget)
        if not state["idle"]:
            return True
        got = True
    except queue.Empty:
        got = False
    except BAD_MESSAGE as exc:
        _forget(exc)
        state["bad"] += 1
        state["heard"] = time.monotonic()
        return True
    if state["reply"] is None:
        try:
            reply = client.get_shell_msg(timeout=0.01)
            got = True
            if _parent_id(reply) == msg_id:
                content = reply.get("content")
                state["reply"] = content if isinstance(content, dict) else {"status": "error", "ename": "BadReply"}
        except queue.Empty:
            pass
        except BAD_MESSAGE as exc:
            _forget(exc)
            state["bad"] += 1
            got = True
    return got


def _forget(exc: BaseException) -> None:
    """Drop the frames of a decoding error: through asyncio's task they form a reference cycle that
    keeps the undecodable message (up to the size cap) alive until the cyclic collector runs."""
    traceback.clear_frames(exc.__traceback__)


def _parent_id(msg) -> object:
    parent = msg.get("parent_header") if isinstance(msg, dict) else None
    return parent.get("msg_id") if isinstance(parent, dict) else None


def _record_iopub(msg: dict, state: dict, cell, budget: list[int]) -> None:
    kind = msg.get("msg_type")
    content = msg.get("content")
    if not isinstance(content, dict):
        state["bad"] += 1
        return
    if kind == "status":
        state["idle"] = content.get("execution_state") == "idle"
        return
    if kind == "clear_output":
        cell.outputs = []
        return
    if kind not in OUTPUT_KINDS:
        return
    size = _size(content)  # checked before building anything from a message that may be megabytes
    if state["size"] + size > OUTPUT_CAP or budget[0] < size:
        if not state["truncated"]:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stderr",
                                                       text="[output truncated by the grader]\n"))
        state["truncated"] = True
        return
    try:
        output = _output(kind, content)
    except (ValueError, TypeError, nbformat.ValidationError):
        output = None
    if output is None:
        state["bad"] += 1
        return
    state["size"] += size
    budget[0] -= size
    if kind == "update_display_data":
        return
    cell.outputs.append(output)


def _size(content: dict) -> int:
    """Characters of text an output message carries (top-level strings and one level of its data)."""
    total = 0
    for value in content.values():
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, (dict, list)):
            items = value.values() if isinstance(value, dict) else value
            total += sum(len(v) if isinstance(v, str) else len(str(type(v))) + 64 for v in items)
    return total


def _output(kind: str, content: dict):
    """An nbformat output built field by field from a kernel message (text only), or None if malformed."""
    if kind == "stream":
        text = content.get("text")
        name = content.get("name") if content.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name, text=text) if isinstance(text, str) else None
    if kind == "error":
        trace = content.get("traceback")
        trace = [line for line in trace if isinstance(line, str)] if isinstance(trace, list) else []
        return nbformat.v4.new_output("error", ename=str(content.get("ename", ""))[:200],
                                      evalue=str(content.get("evalue", ""))[:2000], traceback=trace)
    data = content.get("data")
    if not isinstance(data, dict):
        return None
    kept = {str(mime)[:100]: _text_value(value) for mime, value in data.items()}
    if kind == "execute_result":
        count = content.get("execution_count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        return nbformat.v4.new_output("execute_result", data=kept, execution_count=count)
    return nbformat.v4.new_output("display_data", data=kept)


def _text_value(value) -> str:
    """A mime bundle value as text: strings and lists of strings as they are, anything else re-encoded."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    try:
        return json.dumps(value)  # e.g. application/json; deep nesting was refused by the decoder already
    except (TypeError, ValueError, RecursionError):
        return "[output not kept: not JSON]"
