"""Invitation CSV validation: every bad row named as `line N: field: reason`, nothing accepted half-way."""

from __future__ import annotations

import pytest

from worksample.admin.csv_import import MAX_ROWS, parse_invitation_csv

pytestmark = pytest.mark.timeout(30)
TASKS = {"triage", "churn"}


def parse(text: str | bytes, default: str | None = "triage", live=frozenset()):
    data = text.encode() if isinstance(text, str) else text
    return parse_invitation_csv(data, TASKS, default, live)


def test_good_file_with_header_bom_blank_lines_and_task_column():
    rows, problems = parse("\ufeffname,email,task\nAda,ada@example.com,churn\n\nBo, bo@example.org ,\n")
    assert problems == []
    assert [(r.line, r.name, r.email, r.task) for r in rows] == [(2, "Ada", "ada@example.com", "churn"),
                                                               (4, "Bo", "bo@example.org", "triage")]


@pytest.mark.parametrize("text, problem", [
    ("Ada,\n", "line 1: email: missing"),
    (",ada@example.com\n", "line 1: name: missing"),
    ("Ada,not-an-email\n", "line 1: email: 'not-an-email' is not an email address"),
    ("Ada,ada@example.com,nope\n", "line 1: task: 'nope' is not in the catalog"),
    ("Ada,ada@example.com,x,y\n", "line 1: row: 4 fields"),
    ("name,email\nAda,a@example.com\nAda B,A@example.com\n", "line 3: email: A@example.com is already on line 2"),
    ("", "line 1: file: no rows"),
    ('Ada,"a@example.com\n', "line 1: file:"),
])
def test_bad_rows_are_named(text, problem):
    rows, problems = parse(text)
    assert any(p.startswith(problem) for p in problems), problems


def test_missing_task_without_default():
    _rows, problems = parse("Ada,ada@example.com\n", default=None)
    assert problems == ["line 1: task: missing (no task column and no default task chosen)"]


def test_not_utf8_names_the_line():
    _rows, problems = parse(b"Ada,ada@example.com\nJos\xe9,jose@example.com\n")
    assert problems == ["line 2: file: not UTF-8 (byte 0xe9); save the file as UTF-8 CSV"]


def test_more_than_the_limit_is_refused_whole():
    ok = "".join(f"C{i},c{i}@example.com\n" for i in range(MAX_ROWS))
    rows, problems = parse(ok)
    assert len(rows) == MAX_ROWS and problems == []
    _rows, problems = parse(ok + "One,more@example.com\n")
    assert problems == [f"line {MAX_ROWS + 1}: file: more than {MAX_ROWS} rows; split the file"]


def test_live_invitations_count_as_duplicates_and_all_problems_are_listed():
    _rows, problems = parse("Ada,ada@example.com\nBo,bo@example.com,nope\n", live={("ada@example.com", "triage")})
    assert problems == ["line 1: email: ada@example.com already has a live invitation to triage",
                        "line 2: task: 'nope' is not in the catalog"]
