"""The CSV export of a task's submissions (the same fields as the JSON API, the viewer's pseudonyms included)."""

from __future__ import annotations

import csv
import io

from worksample.review.rows import CandidateRow

COLUMNS = ("id", "candidate", "email", "stage", "score", "max_score", "passed", "review_count", "rubric_mean",
           "rubric_max", "recommendations", "decision", "submitted_at", "time_used_s", "cost_usd")
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): it is quoted as text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return " ".join(f"{k}:{v}" for k, v in sorted(value.items()))
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def submissions_csv(rows: list[CandidateRow]) -> str:
    """CSV text (header + one line per submission) of the rows that have a submission."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        if row.submission_id is None:
            continue
        data = row.api()
        writer.writerow([_cell(data[c]) for c in COLUMNS])
    return out.getvalue()
