"""Fixtures of the support-ticket-triage suite: the hold-out set, its labels, the candidate's CSV.

Everything is read as data with size caps (worksample_grader.runfolder); the
candidate's CSV is parsed, never executed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worksample_grader import pii
from worksample_grader import runfolder as rf
from worksample_grader.calibration import read_calibration
from worksample_grader.deliverables import read_deliverable
from worksample_grader.prompts import message_text, words

PROBE_WORDS = 6  # a ticket "reached the API" when a run of this many of its words is in a prompt


@pytest.fixture(scope="session")
def holdout_tickets(hidden_data: Path) -> dict[str, dict]:
    """The hold-out tickets the notebook was run on, by id."""
    _, rows = rf.read_csv_rows(hidden_data / "holdout" / "tickets.csv")
    return {row["id"].strip(): row for row in rows}


@pytest.fixture(scope="session")
def labels(hidden_data: Path) -> dict[str, dict]:
    """The hold-out labels (category, priority, contains_pii, flags), by id."""
    _, rows = rf.read_csv_rows(hidden_data / "holdout_labels.csv")
    return {row["id"].strip(): row for row in rows}


@pytest.fixture(scope="session")
def triage(outputs: Path) -> tuple[list[str], list[dict]]:
    """(header, rows) of the candidate's outputs/triage.csv; fails the check if unreadable."""
    return read_deliverable(outputs, "triage.csv", rf.read_csv_rows)


@pytest.fixture(scope="session")
def predictions(triage) -> dict[str, dict]:
    """The candidate's rows by ticket id (last one wins), values stripped."""
    _, rows = triage
    return {str(r.get("id") or "").strip(): {k: str(v or "").strip() for k, v in r.items() if k} for r in rows}


@pytest.fixture(scope="session")
def holdout_pii(hidden_data: Path, holdout_tickets: dict[str, dict]) -> set[str]:
    """Every personal datum in the hold-out tickets: the generator's list (names included), else what patterns find."""
    path = hidden_data / "holdout_pii.csv"
    if path.is_file():  # exact: the generator wrote these (patterns alone would also flag invoice numbers)
        return {row["value"].strip() for row in rf.read_csv_rows(path)[1] if row.get("value", "").strip()}
    found: set[str] = set()
    for ticket in holdout_tickets.values():
        found |= {value for _, value in pii.find_pii(f"{ticket.get('subject', '')}\n{ticket.get('body', '')}")}
    return found


@pytest.fixture(scope="session")
def calibration(hidden_data: Path) -> dict:
    """grader/data/calibration.json: the naive baseline's and the reference's measured levels (tools/calibrate.py)."""
    return read_calibration(hidden_data)


def _probes(ticket: dict) -> list[str]:
    """Runs of PROBE_WORDS body words with no digits (redaction never touches them), from start, middle and end."""
    tokens = words(ticket.get("body", ""))
    runs = [tokens[i:i + PROBE_WORDS] for i in range(0, max(0, len(tokens) - PROBE_WORDS + 1))]
    clean = [" ".join(r) for r in runs if not any(any(ch.isdigit() for ch in w) for w in r)]
    if not clean:
        return [" ".join(words(ticket.get("subject", "")))] if ticket.get("subject") else []
    return list(dict.fromkeys([clean[0], clean[len(clean) // 2], clean[-1]]))


@pytest.fixture(scope="session")
def tickets_sent(llm_bodies: dict[str, object], holdout_tickets: dict[str, dict]) -> set[str]:
    """Ids of hold-out tickets whose text reached the LLM API in some request (redacted or not)."""
    haystack = " " + " ".join(" ".join(words(message_text(b))) for b in llm_bodies.values()) + " "
    sent = set()
    for tid, ticket in holdout_tickets.items():
        if any(f" {probe} " in haystack for probe in _probes(ticket)):
            sent.add(tid)
    return sent


@pytest.fixture(scope="session")
def injection_ids(holdout_tickets: dict[str, dict], labels: dict[str, dict]) -> set[str]:
    """Hold-out tickets carrying prompt-injection text (label flag, else the text itself)."""
    flagged = {i for i, row in labels.items() if str(row.get("injection", "")).strip().lower() in ("1", "true", "yes")}
    if flagged:
        return flagged
    pattern = re.compile(r"ignore (all |any )?(previous|prior|above) instructions", re.IGNORECASE)
    return {i for i, t in holdout_tickets.items() if pattern.search(t.get("body", ""))}
