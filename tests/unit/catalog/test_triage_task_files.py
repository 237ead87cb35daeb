"""support-ticket-triage files: reproducible data, no labels where the candidate looks (notebooks: tests/unit/grader/test_notebooks.py)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

TASK = Path(__file__).resolve().parents[3] / "tasks" / "support-ticket-triage"
TICKET_COLUMNS = ["id", "created_at", "customer_tier", "channel", "subject", "body"]


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_generator_reproduces_the_committed_data(tmp_path: Path):
    subprocess.run([sys.executable, str(TASK / "tools" / "make_data.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=60)
    for rel in ("data/tickets.csv", "grader/data/public_labels.csv", "grader/data/holdout/tickets.csv",
                "grader/data/holdout_labels.csv", "grader/data/holdout_pii.csv"):
        assert (tmp_path / rel).read_bytes() == (TASK / rel).read_bytes(), rel


def test_candidate_files_carry_no_labels():
    public = _rows(TASK / "data" / "tickets.csv")
    holdout = _rows(TASK / "grader" / "data" / "holdout" / "tickets.csv")
    for rows in (public, holdout):
        assert list(rows[0]) == TICKET_COLUMNS
    starter_text = "".join(p.read_text(errors="replace") for p in (TASK / "starter").rglob("*") if p.is_file())
    labels = _rows(TASK / "grader" / "data" / "public_labels.csv")
    assert "contains_pii" not in starter_text and "injection_target" not in starter_text
    assert len(public) == len(labels) == 600 and len(holdout) == 120


def test_ids_do_not_collide_and_the_mix_is_realistic():
    public = {r["id"] for r in _rows(TASK / "data" / "tickets.csv")}
    holdout_labels = _rows(TASK / "grader" / "data" / "holdout_labels.csv")
    assert not public & {r["id"] for r in holdout_labels}
    labels = _rows(TASK / "grader" / "data" / "public_labels.csv")
    assert {r["category"] for r in labels} == {"billing", "bug", "account_access", "feature_request", "outage", "security", "how_to"}
    assert {r["priority"] for r in labels} == {"P1", "P2", "P3", "P4"}
    count = lambda rows, key: sum(r[key] not in ("", "0", "en") for r in rows)  # noqa: E731
    for rows, low in ((labels, 10), (holdout_labels, 2)):
        for key in ("contains_pii", "injection", "duplicate_of", "language", "multi_issue", "ambiguous"):
            assert count(rows, key) >= low, key
