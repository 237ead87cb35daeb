"""Invitation CSV uploads (`name,email[,task]`), validated as a whole before anything is created.

Every problem is reported as `line N: field: reason` (N counts physical lines
from 1, the header too), and the caller creates nothing unless the list of
problems is empty. Refused: not UTF-8, more than MAX_ROWS rows, a missing or
malformed name or email, an unknown task, no task at all (no column and no
default), the same email twice for one task in the file, or an email that
already holds a live invitation to that task.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

MAX_ROWS = 1000
MAX_BYTES = 1024 * 1024
MAX_ERRORS = 50  # the first problems are enough to fix a file; a wrong file would list thousands
EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}$")
HEADER = ("name", "email", "task")


@dataclass(frozen=True)
class CsvRow:
    """One valid row: who to invite to which task, and the line it came from."""

    line: int
    name: str
    email: str
    task: str


def _decode(data: bytes) -> tuple[str | None, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return None, f"line {line}: file: not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8 CSV"


def _is_header(fields: list[str]) -> bool:
    return [f.strip().lower() for f in fields] in (list(HEADER[:2]), list(HEADER))


def parse_invitation_csv(data: bytes, known_tasks: set[str], default_task: str | None = None,
                         live: set[tuple[str, str]] = frozenset()) -> tuple[list[CsvRow], list[str]]:
    """Parse and check an upload; (rows, problems). Create the rows only when `problems` is empty.

    `known_tasks` are the catalog's slugs; `live` holds (email lowercased, slug) pairs that
    already have an open or running invitation.
    """
    if len(data) > MAX_BYTES:
        return [], [f"line 1: file: larger than {MAX_BYTES // 1024} KiB"]
    text, problem = _decode(data)
    if problem:
        return [], [problem]
    rows: list[CsvRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields) or (not rows and not problems and _is_header(fields)):
                continue  # blank lines and the optional header
            if len(rows) + len(problems) >= MAX_ROWS:
                return [], [f"line {line}: file: more than {MAX_ROWS} rows; split the file"]
            row, why = _check(line, fields, known_tasks, default_task)
            if why:
                problems.append(why)
            elif (key := (row.email.lower(), row.task)) in seen:
                problems.append(f"line {line}: email: {row.email} is already on line {seen[key]} for task {row.task}")
            elif key in live:
                problems.append(f"line {line}: email: {row.email} already has a live invitation to {row.task}")
            else:
                seen[key] = line
                rows.append(row)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: file: {exc}")
    if not rows and not problems:
        problems.append("line 1: file: no rows (expected name,email[,task])")
    return rows, problems[:MAX_ERRORS]


def _check(line: int, fields: list[str], known: set[str], default_task: str | None) -> tuple[CsvRow | None, str | None]:
    if len(fields) not in (2, 3):
        return None, f"line {line}: row: {len(fields)} fields; expected name,email[,task]"
    name, email = fields[0].strip(), fields[1].strip()
    task = (fields[2].strip() if len(fields) == 3 else "") or (default_task or "")
    if not name:
        return None, f"line {line}: name: missing"
    if len(name) > 200:
        return None, f"line {line}: name: longer than 200 characters"
    if not email:
        return None, f"line {line}: email: missing"
    if len(email) > 320 or not EMAIL.match(email):
        return None, f"line {line}: email: {email[:80]!r} is not an email address"
    if not task:
        return None, f"line {line}: task: missing (no task column and no default task chosen)"
    if task not in known:
        return None, f"line {line}: task: {task[:100]!r} is not in the catalog"
    return CsvRow(line, name, email, task), None
