"""The mock's "log full" state, as graders see it in calls.jsonl.

Pure standard library. The mock caps its logs; once full, it writes one
record with `request_id: "log_full"` (status 507, fault `log_full`, and a
`reason`) into calls.jsonl and refuses every later request (507, code
`log_full`) instead of answering without a log line. Those refusals are not
in the log, so a run whose log is full has evidence only up to that record:
a check that needs the whole run should treat it as incomplete (the
candidate's traffic filled the log: their outcome).
"""

from __future__ import annotations

from collections.abc import Iterable

LOG_FULL_ID = "log_full"
LOG_FULL_FAULT = "log_full"


def log_full(records: Iterable[object]) -> dict | None:
    """The mock's log-full record among call-log records (dicts or llmlog `Call`s), or None.

    Its `reason` names the file that filled (`calls.jsonl` or `bodies.jsonl`) and the cap.
    """
    for record in records:
        rid = record.get("request_id") if isinstance(record, dict) else getattr(record, "request_id", None)
        if rid == LOG_FULL_ID:
            return record if isinstance(record, dict) else {"request_id": rid, "ts": getattr(record, "ts", None),
                                                            "fault": getattr(record, "fault", None)}
    return None


def is_mock_record(record: object) -> bool:
    """True for records the mock writes about itself rather than about a request (skip them when counting calls)."""
    rid = record.get("request_id") if isinstance(record, dict) else getattr(record, "request_id", None)
    return rid == LOG_FULL_ID
