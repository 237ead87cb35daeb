"""The run folder: what the platform's runner hands the grader, and size-capped readers for it.

The runner (host side, `worksample.grading`) writes this layout; nothing in it
was written by the candidate's process except `outputs/`, which is copied out
without following links and size-capped, and is read here as plain data only:

    <run>/run.json          the runner's record: status, duration_s, cells, errors
    <run>/task.json         the task spec (task.yaml as JSON), written by the platform
    <run>/profile.json      the mock's grading profile (as JSON)
    <run>/notebook.ipynb    the executed notebook as recorded by the host-side runner
    <run>/outputs/          the candidate's deliverables (data only, never imported)
    <run>/mock/calls.jsonl  the mock's call log (written by the mock container only)
    <run>/mock/bodies.jsonl request bodies, keyed by request_id
    <run>/mock/service.jsonl     the task service's call log (DESIGN §14; only with a service.py)
    <run>/mock/service_state.json the task service's final state, as its state() returned it
    <run>/rerun/            with task.yaml `grading.rerun`: the second run of the notebook (fresh pod,
                            fresh copy of the submission, same hidden data), laid out like <run>/
                            (run.json, notebook.ipynb, outputs/, mock/); its run.json says
                            `skipped` when the first run timed out or had no notebook to run

Python code in the run folder is never imported and no file is unpickled.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

RUN_FILE = "run.json"
TASK_FILE = "task.json"
PROFILE_FILE = "profile.json"
NOTEBOOK_FILE = "notebook.ipynb"
OUTPUTS_DIR = "outputs"
MOCK_DIR = "mock"
CALLS_FILE = "calls.jsonl"
BODIES_FILE = "bodies.jsonl"
SERVICE_LOG_FILE = "service.jsonl"
SERVICE_STATE_FILE = "service_state.json"
RERUN_DIR = "rerun"
READ_CAP = 32 * 1024**2


class RunFolderError(Exception):
    """A file of the run folder is missing or not what it should be; the message names it."""


def read_capped(path: Path, cap: int = READ_CAP) -> bytes:
    """The bytes of a regular file (never through a symlink), refusing files over `cap`."""
    if path.is_symlink() or not path.is_file():
        raise RunFolderError(f"{path}: not a regular file")
    if path.stat().st_size > cap:
        raise RunFolderError(f"{path}: larger than {cap} bytes")
    return path.read_bytes()


def read_json(path: Path, cap: int = READ_CAP) -> object:
    """Parse a size-capped JSON file; RunFolderError names the file when it is not JSON."""
    try:
        return json.loads(read_capped(path, cap))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path}: not valid JSON ({exc})") from None


def read_csv_rows(path: Path, cap: int = READ_CAP) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a size-capped UTF-8 CSV file; rows are dicts keyed by header."""
    try:
        text = read_capped(path, cap).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RunFolderError(f"{path}: not UTF-8 text ({exc})") from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        rows = [dict(row) for row in reader]
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise RunFolderError(f"{path}: not valid CSV ({exc})") from None
    return header, rows


def read_jsonl(path: Path, cap: int = READ_CAP) -> list[dict]:
    """Every JSON object line of a size-capped JSONL file; a torn last line is ignored."""
    if not path.exists():
        return []
    records = []
    for line in read_capped(path, cap).decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
