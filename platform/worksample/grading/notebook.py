"""Executing a notebook cell by cell in a pod's kernel, from the host, over jupyter-client `ipc`.

What the kernel does is observed here, on the host: the outputs recorded are
the messages the kernel sent, not anything the candidate's code wrote to disk.
Whatever the code does — raise, `sys.exit`, `os._exit`, kill its kernel, loop
forever, flood stdout — ends up as data in a `RunRecord`, never as an
exception out of `execute_notebook`.

Timeouts are layered: a cell's limit (`cell_timeout`) < the run's limit
(`total_timeout`) < the pod's deadline (reaper) < the job timeout.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import nbformat

OUTPUT_CAP = 256 * 1024  # bytes of recorded output per cell; the rest is counted and dropped
NOTEBOOK_OUTPUT_CAP = 4 * 1024**2
POLL_S = 0.5


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
    """Read an nbformat v4 notebook; ValueError naming the file when it is not one."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and unicode errors alike
        raise ValueError(f"{name}: not a readable Jupyter notebook ({type(exc).__name__}: {exc})") from None


def execute_notebook(nb, client, kernel_alive: Callable[[], bool], cell_timeout: float,
                     total_timeout: float) -> RunRecord:
    """Run every code cell of `nb` in order through `client`, recording outputs into `nb`.

    Stops at the first cell that errors, times out or kills the kernel.
    `kernel_alive()` is polled while waiting so a dead kernel is seen at once.
    """
    record = RunRecord()
    started = time.monotonic()
    budget = [NOTEBOOK_OUTPUT_CAP]
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        remaining = total_timeout - (time.monotonic() - started)
        if remaining <= 0:
            record.status = RunStatus.timeout
            record.errors.append(f"run exceeded {total_timeout:.0f}s")
            break
        outcome = _run_cell(cell, client, kernel_alive, min(cell_timeout, remaining), budget)
        record.cells += 1
        record.output_truncated |= outcome.truncated
        if outcome.status != "ok":
            record.status = RunStatus.timeout if outcome.status == "timeout" else RunStatus.crashed
            record.errors.append(f"cell {record.cells}: {outcome.error}")
            break
    record.duration_s = time.monotonic() - started
    return record


def _run_cell(cell, client, kernel_alive, timeout: float, budget: list[int]) -> _CellOutcome:
    cell.outputs = []
    cell.execution_count = None
    msg_id = client.execute(cell.source, store_history=True, allow_stdin=False, stop_on_error=True)
    deadline = time.monotonic() + timeout
    state = {"idle": False, "reply": None, "size": 0, "truncated": False}
    while not (state["idle"] and state["reply"] is not None):
        if time.monotonic() > deadline:
            return _CellOutcome("timeout", f"timed out after {timeout:.0f}s", state["truncated"])
        got = _next_message(client, state, msg_id, cell, budget)
        if not got and not kernel_alive():
            return _CellOutcome("dead", "the kernel died (exited or was killed)", state["truncated"])
    reply = state["reply"]
    cell.execution_count = reply.get("execution_count")
    if reply.get("status") == "ok":
        return _CellOutcome("ok", truncated=state["truncated"])
    ename, evalue = str(reply.get("ename", "Error")), str(reply.get("evalue", ""))[:300]
    return _CellOutcome("error", f"{ename}: {evalue}".strip(": "), state["truncated"])


def _next_message(client, state: dict, msg_id: str, cell, budget: list[int]) -> bool:
    """Take one iopub or shell message for this cell; False when none came within POLL_S.

    Output is drained first; the shell reply is looked for only when output
    pauses or the kernel went idle, so a flood is read at full speed.
    """
    try:
        msg = client.get_iopub_msg(timeout=0.05 if state["idle"] else POLL_S)
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            _record_iopub(msg, state, cell, budget)
        if not state["idle"]:
            return True
        got = True
    except queue.Empty:
        got = False
    if state["reply"] is None:
        try:
            reply = client.get_shell_msg(timeout=0.01)
            got = True
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                state["reply"] = reply["content"]
        except queue.Empty:
            pass
    return got


def _record_iopub(msg: dict, state: dict, cell, budget: list[int]) -> None:
    kind = msg["msg_type"]
    content = msg["content"]
    if kind == "status":
        state["idle"] = content.get("execution_state") == "idle"
        return
    if kind == "clear_output":
        cell.outputs = []
        return
    if kind not in ("stream", "display_data", "execute_result", "error", "update_display_data"):
        return
    size = len(str(content))
    if state["size"] + size > OUTPUT_CAP or budget[0] < size:
        if not state["truncated"]:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stderr",
                                                       text="[output truncated by the grader]\n"))
        state["truncated"] = True
        return
    state["size"] += size
    budget[0] -= size
    if kind == "update_display_data":
        return
    cell.outputs.append(nbformat.v4.output_from_msg(msg))
