"""Admission: who gets in. Memory and concurrency bounds first, then quota, outage and rate limits.

## Memory and concurrency

What the mock holds at once is bounded, whatever a client sends.

A pod gives the mock 256 MiB. Before these bounds, 160 connections each
holding a 2 MiB body took it past that and the kernel killed it. Now:

- at most `MAX_IN_FLIGHT` requests are served at once; more get a logged
  503 `server_busy` (with retry-after), not a queue;
- every request reserves memory from one pool (`POOL_BYTES`) for its whole
  life: its body's bytes as they are read (Content-Length up front, else
  chunk by chunk), then an estimate of the parsed body (`NODE_BYTES` per JSON
  value); a request that does not fit waits for nobody: 503 `server_busy`;
- a body whose parsed form alone would take more than `MAX_REQUEST_BYTES`
  can never be served: 413 `request_too_large`.

Only one body is parsed at a time (parsing runs on the event loop), so the
transient peak of a parse is bounded by the body cap times JSON's expansion.
The uvicorn protocol in `protocol.py` bounds what a connection holds before
the app sees it (request line and headers).

## Quota, outage, rate limits (`Gate`)

In the real API's order: the organisation's budget (429
insufficient_quota), an outage incident (503), then the key's token buckets
(429 with retry-after). Buckets are kept per key hash, so a restarted mock
can rebuild them from its call log (recovery.py). Incidents are windows of
seconds that open at a time on the run's clock (which starts when the first
mock started on the log dir) or when a question of a given rank first
reaches the fault draw (plan.py).
"""

from __future__ import annotations

import math
import time

from worksample.mockllm.limits import Budget, KeyLimits, Refusal
from worksample.mockllm.plan import FaultPlan
from worksample.mockllm.profile import RateLimits
from worksample.mockllm.wire import ApiError

# Without --api-key every key is accepted and gets its own buckets; bound how
# many are remembered so a client inventing keys cannot grow memory forever.
MAX_KEYS = 10_000

MAX_IN_FLIGHT = 128
POOL_BYTES = 48 * 1024**2
NODE_BYTES = 64  # what one parsed JSON value costs, roughly (a small dict is more, an int less)
MAX_REQUEST_BYTES = 16 * 1024**2
MAX_NODES = MAX_REQUEST_BYTES // NODE_BYTES


class Admission:
    """Counts requests in flight and the memory they have reserved."""

    def __init__(self, max_in_flight: int = MAX_IN_FLIGHT, pool_bytes: int = POOL_BYTES) -> None:
        self.max_in_flight = max_in_flight
        self.pool_bytes = pool_bytes
        self.in_flight = 0
        self.reserved = 0
        self.refused = 0  # requests turned away as server_busy, for the stop record

    def full(self) -> bool:
        """True when no further request may start."""
        return self.in_flight >= self.max_in_flight

    def reserve(self, nbytes: int) -> bool:
        """Take `nbytes` from the pool; False (nothing taken) when it does not fit."""
        if nbytes > 0 and self.reserved + nbytes > self.pool_bytes:
            return False
        self.reserved += max(nbytes, 0)
        return True

    def release(self, nbytes: int) -> None:
        """Give back what a finished request reserved."""
        self.reserved = max(self.reserved - nbytes, 0)


def parsed_cost(value: object, limit: int = MAX_NODES) -> int:
    """Estimated bytes a parsed JSON value holds beyond its text: NODE_BYTES per value.

    Walks iteratively (no recursion limit) and stops counting past `limit`
    values, returning a figure above MAX_REQUEST_BYTES.
    """
    nodes, stack = 0, [value]
    while stack:
        item = stack.pop()
        nodes += 1
        if nodes > limit:
            return (limit + 1) * NODE_BYTES
        if isinstance(item, dict):
            stack.extend(item.values())
            nodes += len(item)  # the keys
        elif isinstance(item, list):
            stack.extend(item)
    return nodes * NODE_BYTES


class Gate:
    """Quota, outage and per-key rate limits on the run's clock."""

    def __init__(self, rate_limits: RateLimits | None, plan: FaultPlan, budget: Budget, started: float) -> None:
        self.rate_limits = rate_limits
        self.plan = plan
        self.budget = budget
        self.started = started  # unix time the run's clock starts at
        self.limits: dict[str, KeyLimits] = {}

    def elapsed(self, wall: float | None = None) -> float:
        """Seconds on the run's clock at unix time `wall` (default now)."""
        return (time.time() if wall is None else wall) - self.started

    def admit(self, key_hash: str | None, model: str, requested_tokens: int):
        """Admit one request needing `requested_tokens` or raise its ApiError; returns the storm in force."""
        if self.budget.exhausted():
            raise ApiError(429, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.", "insufficient_quota", None, "insufficient_quota", fault="insufficient_quota")
        elapsed = self.elapsed()
        if self.plan.incident(elapsed, "outage") is not None:
            raise ApiError(503, "The server is overloaded or not ready yet.", "server_error", None, None, fault="outage")
        storm = self.plan.incident(elapsed, "rate_limit_storm")
        limits = self.key_limits(key_hash)
        refusal = limits.admit(requested_tokens, time.monotonic(), storm)
        if refusal is not None:
            raise rate_limited(refusal, model)
        # Like the real API, max_tokens counts against the limit when the request is admitted.
        limits.charge_tokens(requested_tokens, time.monotonic(), storm)
        return storm

    def key_limits(self, key_hash: str | None) -> KeyLimits:
        """The buckets of a key (by its hash), created full on first use."""
        k = key_hash or ""
        limits = self.limits.get(k)
        if limits is None:
            if len(self.limits) >= MAX_KEYS:
                del self.limits[next(iter(self.limits))]  # forget the oldest key
            limits = self.limits[k] = KeyLimits(self.rate_limits, time.monotonic())
        return limits

    def storm_now(self):
        """The rate-limit storm in force now, if any."""
        return self.plan.incident(self.elapsed(), "rate_limit_storm")

    def replay(self, key_hash: str | None, wall: float, tokens: int) -> None:
        """Charge an admitted request of the past (unix time `wall`) to its key's buckets, as it was then."""
        now = time.monotonic() - max(time.time() - wall, 0.0)
        storm = self.plan.incident(self.elapsed(wall), "rate_limit_storm")
        limits = self.key_limits(key_hash)
        limits.replay(tokens, now, storm)


def rate_limited(refusal: Refusal, model: str) -> ApiError:
    """The real API's 429 for a refusal by the buckets (retry-after unless it can never fit)."""
    if math.isinf(refusal.wait_s):
        return ApiError(429, f"Request too large for {model} in organization org-mock on tokens per min (TPM): Limit {refusal.limit}, Requested {refusal.requested}. The input or output tokens must be reduced in order to run successfully.", "tokens", None, "rate_limit_exceeded", fault="request_too_large")
    wait = refusal.wait_s
    shown = f"{math.ceil(wait * 1000)}ms" if wait < 1 else f"{math.ceil(wait * 1000) / 1000:g}s"
    return ApiError(
        429,
        f"Rate limit reached for {model} in organization org-mock on {refusal.dimension} per min ({refusal.window}): Limit {refusal.limit}, Used {refusal.used}, Requested {refusal.requested}. Please try again in {shown}. Visit https://platform.openai.com/account/rate-limits to learn more.",
        refusal.dimension, None, "rate_limit_exceeded", fault="rate_limit", retry_after_s=math.ceil(wait * 1000) / 1000,
    )


def busy() -> ApiError:
    """503 server_busy: too many requests or too much data in flight (retry after a second)."""
    return ApiError(503, "The server is busy: too many requests or too much request data in flight at once. "
                    "Please retry after a short wait.", "server_error", None, "server_busy",
                    fault="server_busy", retry_after_s=1.0)


def too_complex() -> ApiError:
    """413 for a body whose parsed form the mock will not hold."""
    return ApiError(413, "Request body too complex: it holds too many JSON values.", "invalid_request_error", None,
                    "request_too_large")
