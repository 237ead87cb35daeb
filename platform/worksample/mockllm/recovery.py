"""A restarted mock picks up where the last one on the same log dir stopped.

The log dir outlives the mock (an attempt's pod is stopped and resumed; a
mock may crash). The call log is the record of what happened, so on start
the mock reads it back: the spend (sum of `cost_usd`: the budget is not
fresh again), the number of requests (request indices continue), the
paid-request count, the questions that reached the fault draw (each
question's attempts continue, hence its seeded faults; the distinct ones
count towards the schedule, so scheduled faults are not met twice, and
their ranks put them back in a per-question outage and reopen incidents
that start at a rank, at the time that question first arrived) and
every admitted request's `charged_tokens`, replayed into the
key's buckets at the time it arrived (the rate limits are as the last mock
left them). The run's clock comes from mock.json (state.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from worksample.mockllm.calllog import LOG_FULL_ID


@dataclass
class Recovered:
    """What the call log says about the mocks that ran on this log dir before."""

    requests: int = 0
    paid: int = 0  # the next paid_index
    spent_usd: float = 0.0
    admitted: list[tuple[str | None, float, int]] = field(default_factory=list)  # (key_hash, ts, charged_tokens)
    skipped_lines: int = 0
    outages: dict[int, float] = field(default_factory=dict)  # rank -> ts of first attempts answered `outage`
    questions: list[str] = field(default_factory=list)  # logical_hash of every paid request, in log order
    question_ts: list[float] = field(default_factory=list)  # their arrival times (incidents opened by a rank)


def recover(calls_path: Path, max_bytes: int) -> Recovered:
    """Read calls.jsonl (at most `max_bytes`); unreadable lines (a line cut by a kill) are skipped and counted."""
    out = Recovered()
    try:
        with open(calls_path, "rb") as fh:
            data = fh.read(max_bytes)
    except OSError:
        return out
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not an object")
            if rec.get("request_id") == LOG_FULL_ID:
                continue
            out.requests += 1
            out.spent_usd += float(rec.get("cost_usd") or 0.0)
            if isinstance(rec.get("paid_index"), int):
                out.paid = max(out.paid, rec["paid_index"] + 1)
                out.questions.append(str(rec.get("logical_hash") or rec.get("request_hash") or ""))
                out.question_ts.append(float(rec["ts"]))
                if rec.get("fault") == "outage" and isinstance(rec.get("rank"), int):
                    out.outages[rec["rank"]] = float(rec["ts"])
            if isinstance(rec.get("charged_tokens"), int):
                out.admitted.append((rec.get("key_hash"), float(rec["ts"]), rec["charged_tokens"]))
        except (ValueError, TypeError, KeyError):
            out.skipped_lines += 1
    out.admitted.sort(key=lambda a: a[1])
    return out
