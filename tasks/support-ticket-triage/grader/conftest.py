"""Fixtures of the support-ticket-triage suite: the hold-out set, its labels, the candidate's CSV.

Everything is read as data with size caps (worksample_grader.runfolder); the
candidate's CSV is parsed, never executed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worksample_grader import runfolder as rf

# Personal data as it appears in the tickets: e-mail addresses, phone numbers, card-like numbers.
PII_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"(?<!\d)(?:\+?\d[\d ().-]{7,}\d)(?!\d)"),
)


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
    path = outputs / "triage.csv"
    if not path.is_file() or path.is_symlink():
        pytest.fail("outputs/triage.csv was not produced", pytrace=False)
    try:
        return rf.read_csv_rows(path)
    except rf.RunFolderError as exc:
        pytest.fail(f"outputs/triage.csv: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def predictions(triage) -> dict[str, dict]:
    """The candidate's rows by ticket id (last one wins), values stripped."""
    _, rows = triage
    return {str(r.get("id") or "").strip(): {k: str(v or "").strip() for k, v in r.items() if k} for r in rows}


def pii_strings(text: str) -> set[str]:
    """The e-mail addresses and phone/card-like numbers found in `text`."""
    found: set[str] = set()
    for pattern in PII_PATTERNS:
        found.update(m.group(0).strip() for m in pattern.finditer(text or ""))
    return {f for f in found if len(re.sub(r"\D", "", f)) >= 7 or "@" in f}


@pytest.fixture(scope="session")
def holdout_pii(holdout_tickets: dict[str, dict]) -> set[str]:
    """Every piece of personal data that appears in a hold-out ticket's subject or body."""
    found: set[str] = set()
    for ticket in holdout_tickets.values():
        found |= pii_strings(f"{ticket.get('subject', '')}\n{ticket.get('body', '')}")
    return found


@pytest.fixture(scope="session")
def injection_ids(holdout_tickets: dict[str, dict], labels: dict[str, dict]) -> set[str]:
    """Hold-out tickets carrying prompt-injection text (label flag, else the text itself)."""
    flagged = {i for i, row in labels.items() if str(row.get("injection", "")).strip().lower() in ("1", "true", "yes")}
    if flagged:
        return flagged
    pattern = re.compile(r"ignore (all |any )?(previous|prior|above) instructions", re.IGNORECASE)
    return {i for i, t in holdout_tickets.items() if pattern.search(t.get("body", ""))}
