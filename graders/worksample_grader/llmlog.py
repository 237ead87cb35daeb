"""Reading the mock LLM's call log and judging a client's behaviour from it.

Pure standard library: this ships in the grader image. `load(path)` reads
`calls.jsonl` (a truncated last line, as left by a killed mock, is skipped);
`analyze(log)` judges each API key; `summarize(log)` gives the report's `llm`
block.

Log conventions (written by worksample.mockllm):
- `ts` is arrival time; a call ends at `ts + latency_ms / 1000`.
- `status` is the HTTP status; 0 means the connection was reset with no
  response; 499 means the client closed the connection before the answer was
  complete (nothing billed). A `timeout` fault logs 200 (headers were sent,
  the body never came).
- `fault` is null for a normal answer or a client error, else one of the
  profile's kinds (`server_error`, `overloaded`, `bad_gateway`, `timeout`,
  `reset`, `malformed_json`, `truncated`, `content_filter`, `stream_cut`,
  `stream_error`) or the mock's own: `rate_limit` (429 with retry-after),
  `request_too_large` (429, can never succeed), `insufficient_quota` (429,
  budget spent), `outage` (503 incident), `oracle_error`/`internal_error` (500).
- Retries are calls whose *logical request* was seen before on the same key
  (see `worksample_grader.logical`): the log's `logical_hash` when the mock
  wrote one, else the key computed from the call's body in `bodies.jsonl`,
  else `request_hash` (sha256 of the canonical body). A per-attempt nonce
  (`user`, `seed`, `metadata`) does not make a retry a new request.
- Free calls (`GET /v1/models`: no model, nothing billed) are never retries
  or duplicate paid calls.
- `in_flight` counts the requests open at arrival, this one included.

Every judgement is a `Finding` with a tri-state verdict: `pass`, `fail`, or
`no_evidence` when the log holds nothing to judge (no calls, no 429s, ...).
Nothing passes vacuously.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from worksample_grader.mockstate import is_mock_record

FIELDS = ("ts", "request_id", "key_hash", "model", "status", "fault", "prompt_tokens", "completion_tokens",
          "cost_usd", "latency_ms", "retry_after_s", "request_hash", "in_flight")
NON_RETRYABLE_STATUS = frozenset({400, 401, 403, 404, 413, 422})
NON_RETRYABLE_FAULTS = frozenset({"insufficient_quota", "request_too_large"})
TRANSIENT_FAULTS = frozenset({"server_error", "overloaded", "bad_gateway", "timeout", "reset", "outage",
                              "stream_cut", "stream_error", "oracle_error", "internal_error"})
# A wait counts as honouring retry-after if it is at most this much shorter
# (clock granularity, the log's rounding).
WAIT_TOLERANCE_S = 0.05
# Waits are measured from the log: from the end of the failed call (the mock
# finished answering) to the arrival of the next attempt. Whatever load the
# host is under, that interval holds all of the wait the client chose plus its
# own turnaround, so a measured wait is never shorter than the chosen one: a
# floor on waits (retry-after, a minimum wait) can only err in favour of an
# honest client. Load can, though, make an immediate retry look like a wait,
# so growth is judged by comparing waits with each other (see check_backoff).
MIN_RETRY_WAIT_S = 0.2  # a retry after a transient failure must wait at least this long
# Share of successive-wait pairs that may fail to grow. Honest backoff leaves some: a
# wait measured after a stalled call includes the client's read timeout, jitter and
# host load shift waits. An immediate retrier's pairs grow only by chance, about half
# of them: with the grading outage's 24 or more pairs, a share of 0.25 lets one pass
# with a probability of about 1 % (binomial), and only on a host so loaded that its
# retries also clear MIN_RETRY_WAIT_S, which they do not on an idle one.
MAX_NON_GROWING_SHARE = 0.25
# request_hash of the mock's free GET endpoints (sha256 of "METHOD PATH").
FREE_HASHES = frozenset(hashlib.sha256(f"GET {p}".encode()).hexdigest() for p in ("/v1/models", "/v1/models/"))


class Verdict(str, Enum):
    """The outcome of one judgement."""

    PASS = "pass"
    FAIL = "fail"
    NO_EVIDENCE = "no_evidence"


@dataclass(frozen=True)
class Call:
    """One line of calls.jsonl."""

    ts: float
    request_id: str
    key_hash: str | None
    model: str | None
    status: int
    fault: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    retry_after_s: float | None
    request_hash: str
    in_flight: int
    logical_hash: str | None = None

    @property
    def logical(self) -> str:
        """The key of the question this call asked: logical_hash, else request_hash."""
        return self.logical_hash or self.request_hash

    @property
    def free(self) -> bool:
        """A call of a free endpoint (models.list): no model named, nothing billed."""
        # A POST without a model never gets a 200, so "no model, 200, $0" is a GET.
        return self.request_hash in FREE_HASHES or (self.model is None and self.status == 200
                                                     and self.cost_usd == 0)

    @property
    def end(self) -> float:
        """When the mock finished answering (unix seconds)."""
        return self.ts + self.latency_ms / 1000

    @property
    def ok(self) -> bool:
        """A clean answer: 200 with no fault at all."""
        return self.status == 200 and self.fault is None

    @property
    def transient(self) -> bool:
        """A failure worth retrying with backoff (5xx, timeout, reset, broken stream)."""
        return self.status >= 500 or self.fault in TRANSIENT_FAULTS

    @property
    def non_retryable(self) -> bool:
        """A failure that no retry can fix (400/401/403/404/413/422, insufficient_quota, request too large)."""
        return self.status in NON_RETRYABLE_STATUS or self.fault in NON_RETRYABLE_FAULTS

    @property
    def rate_limited(self) -> bool:
        """A 429 that says to wait (has a retry-after)."""
        return self.status == 429 and self.fault == "rate_limit"


@dataclass
class CallLog:
    """All calls of one log, in file order, plus how many lines could not be read."""

    calls: list[Call]
    skipped_lines: int = 0
    log_full: dict | None = None  # the mock's "log full" record: nothing after it was logged (see mockstate)

    def by_key(self) -> dict[str, list[Call]]:
        """Calls grouped by key hash (None becomes "-"), each in arrival order."""
        groups: dict[str, list[Call]] = defaultdict(list)
        for call in sorted(self.calls, key=lambda c: c.ts):
            groups[call.key_hash or "-"].append(call)
        return dict(groups)


@dataclass
class Finding:
    """A judgement: verdict, how many cases were judged, how many failed, and examples."""

    verdict: Verdict
    evidence: int = 0
    violations: int = 0
    details: list[str] = field(default_factory=list)

    @classmethod
    def judge(cls, evidence: int, violations: int, details: list[str]) -> Finding:
        """NO_EVIDENCE with no cases, else FAIL with any violation, else PASS."""
        if evidence == 0:
            verdict = Verdict.NO_EVIDENCE
        else:
            verdict = Verdict.FAIL if violations else Verdict.PASS
        return cls(verdict, evidence, violations, details[:10])


@dataclass
class KeyReport:
    """Everything judged about one API key."""

    key_hash: str
    calls: int
    status_counts: dict[int, int]
    retries: int
    cost_usd: float
    prompt_tokens: int
    completion_tokens: int
    max_in_flight: int
    retry_after: Finding  # waits after rate-limit 429s honour retry-after
    backoff: Finding  # waits after transient failures grow
    non_retryable: Finding  # 400/401/404/insufficient_quota not retried
    duplicates: Finding  # no identical request repeated after a clean answer
    activity: Finding  # were there any clean answers at all


class LogError(ValueError):
    """The log is unreadable beyond a truncated last line."""


def _call(obj: object) -> Call:
    if not isinstance(obj, dict) or any(k not in obj for k in FIELDS):
        raise ValueError("missing fields")
    return Call(
        ts=float(obj["ts"]), request_id=str(obj["request_id"]), key_hash=obj["key_hash"], model=obj["model"],
        status=int(obj["status"]), fault=obj["fault"], prompt_tokens=int(obj["prompt_tokens"]),
        completion_tokens=int(obj["completion_tokens"]), cost_usd=float(obj["cost_usd"]),
        latency_ms=float(obj["latency_ms"]),
        retry_after_s=None if obj["retry_after_s"] is None else float(obj["retry_after_s"]),
        request_hash=str(obj["request_hash"]), in_flight=int(obj["in_flight"]),
        logical_hash=str(obj["logical_hash"]) if obj.get("logical_hash") else None,
    )


def load(path: str | Path, *, max_bytes: int = 256 * 1024 * 1024, bodies: dict[str, object] | None = None) -> CallLog:
    """Read calls.jsonl; a bad last line is skipped and counted, a bad middle line raises LogError.

    `bodies` (request_id → body, from bodies.jsonl) gives calls without a
    `logical_hash` one computed from their body.
    """
    path = Path(path)
    if path.stat().st_size > max_bytes:
        raise LogError(f"{path}: larger than {max_bytes} bytes")
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and friends.
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    calls, skipped, full = [], 0, None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if isinstance(record, dict) and is_mock_record(record):
                full = record  # the mock's own "log full" line, not a request
                continue
            calls.append(_call(record))
        except (ValueError, TypeError) as exc:
            if number == len(lines):
                skipped += 1  # the mock was killed mid-line
                continue
            raise LogError(f"{path}: line {number}: {exc}") from None
    if bodies:
        calls = [with_logical_hash(c, bodies) for c in calls]
    return CallLog(calls, skipped, full)


def with_logical_hash(call: Call, bodies: dict[str, object]) -> Call:
    """`call` with its logical_hash computed from its body, if it has none and its body is known."""
    from dataclasses import replace

    from worksample_grader.logical import logical_hash

    if call.logical_hash or call.free or call.request_id not in bodies:
        return call
    return replace(call, logical_hash=logical_hash(bodies[call.request_id]))


def load_bodies(path: str | Path, cap: int = 256 * 1024 * 1024) -> dict[str, object]:
    """request_id → body from bodies.jsonl (missing file: empty); torn or bad lines are skipped."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size > cap:
        return {}
    out: dict[str, object] = {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "request_id" in record:
                out[str(record["request_id"])] = record.get("body")
    return out


def _attempt_chains(calls: list[Call]) -> list[list[Call]]:
    """Paid calls grouped by logical request, each group in arrival order (free calls left out)."""
    chains: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        if not call.free:
            chains[call.logical].append(call)
    return list(chains.values())


def check_retry_after(calls: list[Call]) -> Finding:
    """Each rate-limited call that was retried: did the retry wait its retry-after?"""
    evidence, bad, details = 0, 0, []
    for chain in _attempt_chains(calls):
        for prev, nxt in zip(chain, chain[1:]):
            if not prev.rate_limited or prev.retry_after_s is None:
                continue
            evidence += 1
            wait = nxt.ts - prev.end
            if wait + WAIT_TOLERANCE_S < prev.retry_after_s:
                bad += 1
                details.append(f"{prev.request_id}: retried after {wait:.3f}s, retry-after was {prev.retry_after_s:.3f}s")
    return Finding.judge(evidence, bad, details)


def check_backoff(calls: list[Call]) -> Finding:
    """Successive waits after transient failures of one request: does each wait grow on the one before?

    Evidence is each pair of successive waits after transient failures of
    the same request (one wait shows no growth); a pair whose second wait is
    not longer than the first is a violation. Judged pair by pair, not by
    absolute length: a client that retries at once waits only its own
    turnaround, which host load stretches alike on both sides of a pair, so
    its pairs grow about half the time whatever the load; exponential
    backoff doubles, which load's noise seldom undoes. Callers judge the
    share of violations (`llm_resilience` tolerates a few).
    """
    evidence, bad, details = 0, 0, []
    for chain in _attempt_chains(calls):
        waits = [nxt.ts - prev.end for prev, nxt in zip(chain, chain[1:]) if prev.transient]
        for a, b in zip(waits, waits[1:]):
            evidence += 1
            if b <= a:
                bad += 1
                details.append(f"{chain[0].logical[:12]}: waited {a:.3f}s then {b:.3f}s")
    return Finding.judge(evidence, bad, details)


def check_retry_waits(calls: list[Call], min_wait_s: float = MIN_RETRY_WAIT_S) -> Finding:
    """Every retry after a transient failure: did it wait at least `min_wait_s`? (Load only lengthens waits.)"""
    evidence, bad, details = 0, 0, []
    for chain in _attempt_chains(calls):
        for prev, nxt in zip(chain, chain[1:]):
            if prev.transient:
                evidence += 1
                wait = nxt.ts - prev.end
                if wait < min_wait_s:
                    bad += 1
                    details.append(f"{prev.request_id}: retried {wait:.3f}s after a {prev.status}")
    return Finding.judge(evidence, bad, details)


def backs_off(growth: Finding, waits: Finding) -> bool:
    """backoff_after_5xx's rule: few successive waits fail to grow, and no retry came within MIN_RETRY_WAIT_S."""
    return growth.violations <= MAX_NON_GROWING_SHARE * growth.evidence and waits.verdict is Verdict.PASS


def check_non_retryable(calls: list[Call]) -> Finding:
    """Non-retryable errors (400/401/404/413/422, insufficient_quota, too large): were they retried?"""
    evidence, bad, details = 0, 0, []
    for chain in _attempt_chains(calls):
        for i, call in enumerate(chain):
            if not call.non_retryable:
                continue
            evidence += 1
            if i + 1 < len(chain):
                bad += 1
                details.append(f"{call.request_id}: status {call.status} ({call.fault or 'client error'}) retried {len(chain) - i - 1}x")
                break
    return Finding.judge(evidence, bad, details)


def check_duplicates(calls: list[Call]) -> Finding:
    """Identical requests sent again after a clean answer (wasted money); evidence is clean answers."""
    evidence, bad, details = 0, 0, []
    for chain in _attempt_chains(calls):
        first_ok = next((i for i, c in enumerate(chain) if c.ok), None)
        if first_ok is None:
            continue
        evidence += 1
        extra = [c for c in chain[first_ok + 1:]]
        if extra:
            bad += 1
            details.append(f"{chain[first_ok].logical[:12]}: {len(extra)} repeat(s) after a clean answer")
    return Finding.judge(evidence, bad, details)


def analyze_key(key_hash: str, calls: list[Call]) -> KeyReport:
    """Judge one key's calls (in arrival order)."""
    seen: set[str] = set()
    retries = 0
    for call in calls:
        if call.free:
            continue
        if call.logical in seen:
            retries += 1
        seen.add(call.logical)
    ok = sum(1 for c in calls if c.ok)
    return KeyReport(
        key_hash=key_hash, calls=len(calls), status_counts=dict(Counter(c.status for c in calls)), retries=retries,
        cost_usd=round(sum(c.cost_usd for c in calls), 9), prompt_tokens=sum(c.prompt_tokens for c in calls),
        completion_tokens=sum(c.completion_tokens for c in calls),
        max_in_flight=max((c.in_flight for c in calls), default=0),
        retry_after=check_retry_after(calls), backoff=check_backoff(calls),
        non_retryable=check_non_retryable(calls), duplicates=check_duplicates(calls),
        activity=Finding.judge(len(calls), 0 if ok else 1, [] if ok else ["no call got a clean answer"]),
    )


def analyze(log: CallLog) -> dict[str, KeyReport]:
    """A KeyReport per key hash; an empty dict for an empty log (no evidence of anything)."""
    return {key: analyze_key(key, calls) for key, calls in log.by_key().items()}


def summarize(log: CallLog) -> dict:
    """The report's `llm` block: calls, status_counts, retries, rate_limited, cost, tokens, max_in_flight."""
    reports = analyze(log).values()
    counts: Counter = Counter()
    for report in reports:
        counts.update(report.status_counts)
    return {
        "calls": len(log.calls),
        "status_counts": {str(k): v for k, v in sorted(counts.items())},
        "retries": sum(r.retries for r in reports),
        "rate_limited": sum(1 for c in log.calls if c.status == 429),
        "cost_usd": round(math.fsum(c.cost_usd for c in log.calls), 9),
        "prompt_tokens": sum(c.prompt_tokens for c in log.calls),
        "completion_tokens": sum(c.completion_tokens for c in log.calls),
        "max_in_flight": max((c.in_flight for c in log.calls), default=0),
    }
