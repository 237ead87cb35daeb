"""One request's state from arrival to its call-log line, and that line."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(slots=True)
class Exchange:
    """One request's state, from arrival to its call-log line."""

    ts: float
    t0: float
    index: int
    in_flight: int
    request_id: str = ""
    key: str | None = None
    key_hash: str | None = None
    model: str | None = None
    request_hash: str = ""
    logical_hash: str | None = None
    paid_index: int | None = None  # position among requests that reached the fault draw
    attempt: int | None = None  # how many earlier requests with this logical_hash reached the draw
    rank: int | None = None  # first attempts only: the question's place among distinct ones (scheduled faults)
    status: int = 0
    fault: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retry_after_s: float | None = None
    reserved_tokens: int = 0  # completion tokens charged up front (max_tokens)
    charged_tokens: int | None = None  # tokens charged to the key's buckets; None: not admitted
    reserved_bytes: int = 0  # memory reserved from the admission pool until the request ends
    stream: bool = False
    billed: bool = False  # prompt and completion_tokens are charged (cost_usd so far)
    logged: bool = False
    receive: object = None

    @property
    def question(self) -> str:
        """The question this request asks: its logical hash, else (a body that could not be normalised) its
        request hash. Attempts, ranks, scheduled faults, holds and answers are all keyed by it."""
        return self.logical_hash or self.request_hash


def call_record(ex: Exchange) -> dict:
    """The call-log line of `ex`: the DESIGN §6 fields, then the mock's extra fields.

    Extra fields: `logical_hash` (the normalised question, see worksample_grader.logical),
    `paid_index` (the request's place among those that reached the fault
    draw), `charged_tokens` (tokens charged to the key's rate-limit buckets;
    null when not admitted), which a restarted mock replays to recover its
    limits, `attempt` (0 the first time its question reached the draw, then
    1, 2, ...: faults are keyed by question and attempt) and `rank` (on a
    first attempt, the question's place among distinct questions:
    scheduled faults go by it).
    """
    return {
        "ts": round(ex.ts, 6), "request_id": ex.request_id, "key_hash": ex.key_hash, "model": ex.model,
        "status": ex.status, "fault": ex.fault, "prompt_tokens": ex.prompt_tokens,
        "completion_tokens": ex.completion_tokens, "cost_usd": ex.cost_usd,
        "latency_ms": round((time.monotonic() - ex.t0) * 1000, 3), "retry_after_s": ex.retry_after_s,
        "request_hash": ex.request_hash, "in_flight": ex.in_flight,
        "logical_hash": ex.logical_hash, "paid_index": ex.paid_index, "charged_tokens": ex.charged_tokens,
        "attempt": ex.attempt, "rank": ex.rank,
    }
