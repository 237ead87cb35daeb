"""Per-key rate limits as token buckets, and the spend budget.

Each key has a requests bucket (capacity rpm, refilled rpm/60 per second)
and a tokens bucket (capacity tpm, refilled tpm/60 per second). Like the real
API, a request is admitted against its prompt tokens plus its max_tokens and
charged that much; without max_tokens the completion is charged when known.
A bucket may go into debt, which makes the next wait longer. A request larger than the whole tokens bucket can
never succeed ("Request too large").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from worksample.mockllm.profile import Incident, RateLimits


class TokenBucket:
    """A bucket of `capacity` units refilled continuously at `per_s` units per second."""

    __slots__ = ("capacity", "per_s", "level", "stamp")

    def __init__(self, capacity: float, per_s: float, now: float) -> None:
        self.capacity = float(capacity)
        self.per_s = float(per_s)
        self.level = float(capacity)
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_s)
            self.stamp = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` units are available: 0 if now, inf if never."""
        if amount > self.capacity:
            return math.inf
        self._refill(now)
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing / self.per_s

    def take(self, amount: float, now: float) -> None:
        """Remove `amount` units (the level may go negative: debt)."""
        self._refill(now)
        self.level -= amount

    def remaining(self, now: float) -> int:
        """Whole units available now (never negative)."""
        self._refill(now)
        return max(int(self.level), 0)

    def reset_in(self, now: float) -> float:
        """Seconds until the bucket is full again."""
        self._refill(now)
        return max(self.capacity - self.level, 0.0) / self.per_s


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused by the limits."""

    dimension: str  # "requests" or "tokens"
    limit: int
    used: int
    requested: int
    wait_s: float  # math.inf: too large to ever succeed
    window: str  # "RPM" or "TPM"


class KeyLimits:
    """The buckets of one API key, plus extra buckets for rate-limit storms."""

    def __init__(self, limits: RateLimits | None, now: float) -> None:
        self.limits = limits
        self.requests = TokenBucket(limits.rpm, limits.rpm / 60, now) if limits else None
        self.tokens = TokenBucket(limits.tpm, limits.tpm / 60, now) if limits else None
        self._storms: dict[int, tuple[TokenBucket | None, TokenBucket | None]] = {}

    def _buckets(self, storm: tuple[int, Incident] | None, now: float):
        pairs = [(self.requests, self.tokens)]
        if storm is not None:
            index, incident = storm
            if index not in self._storms:
                self._storms[index] = (
                    TokenBucket(incident.rpm, incident.rpm / 60, now) if incident.rpm else None,
                    TokenBucket(incident.tpm, incident.tpm / 60, now) if incident.tpm else None,
                )
            pairs.append(self._storms[index])
        return pairs

    def admit(self, tokens: int, now: float, storm: tuple[int, Incident] | None = None) -> Refusal | None:
        """Admit one request needing `tokens`, charging one request; or say why not."""
        pairs = self._buckets(storm, now)
        for req_bucket, tok_bucket in pairs:
            if tok_bucket is not None and tokens > tok_bucket.capacity:
                return _refusal("tokens", tok_bucket, tokens, math.inf, now)
        for req_bucket, tok_bucket in pairs:
            if req_bucket is not None:
                wait = req_bucket.wait_for(1, now)
                if wait > 0:
                    return _refusal("requests", req_bucket, 1, wait, now)
            if tok_bucket is not None:
                wait = tok_bucket.wait_for(tokens, now)
                if wait > 0:
                    return _refusal("tokens", tok_bucket, tokens, wait, now)
        for req_bucket, _ in pairs:
            if req_bucket is not None:
                req_bucket.take(1, now)
        return None

    def charge_tokens(self, tokens: int, now: float, storm: tuple[int, Incident] | None = None) -> None:
        """Charge tokens actually used to every tokens bucket in force."""
        for _, tok_bucket in self._buckets(storm, now):
            if tok_bucket is not None:
                tok_bucket.take(tokens, now)

    def replay(self, tokens: int, now: float, storm: tuple[int, Incident] | None = None) -> None:
        """Re-apply a past admitted request (one request, `tokens` tokens) at monotonic time `now`."""
        for req_bucket, tok_bucket in self._buckets(storm, now):
            if req_bucket is not None:
                req_bucket.take(1, now)
            if tok_bucket is not None:
                tok_bucket.take(tokens, now)

    def headers(self, now: float, storm: tuple[int, Incident] | None = None) -> dict[str, tuple[int, int, float]]:
        """(limit, remaining, reset seconds) per dimension, for the x-ratelimit-* headers."""
        out: dict[str, tuple[int, int, float]] = {}
        pairs = self._buckets(storm, now)
        for dim, pos in (("requests", 0), ("tokens", 1)):
            buckets = [p[pos] for p in pairs if p[pos] is not None]
            if not buckets:
                continue
            # The tightest bucket in force is the one the client should see.
            b = min(buckets, key=lambda x: x.remaining(now))
            out[dim] = (int(b.capacity), b.remaining(now), b.reset_in(now))
        return out


def _refusal(dimension: str, bucket: TokenBucket, requested: int, wait: float, now: float) -> Refusal:
    limit = int(bucket.capacity)
    used = max(limit - bucket.remaining(now), 0)
    return Refusal(dimension, limit, used, requested, wait, "RPM" if dimension == "requests" else "TPM")


class Budget:
    """Spend across the whole server (the organisation's quota), in USD."""

    def __init__(self, limit_usd: float | None) -> None:
        self.limit_usd = limit_usd
        self.spent_usd = 0.0

    def exhausted(self) -> bool:
        """True once spend has reached the budget."""
        return self.limit_usd is not None and self.spent_usd >= self.limit_usd

    def spend(self, usd: float) -> None:
        """Record spend."""
        self.spent_usd += usd


def cost_usd(prompt_tokens: int, completion_tokens: int, input_per_mtok: float, output_per_mtok: float) -> float:
    """Price of one call, rounded to 1e-9 USD so logs stay readable."""
    return round((prompt_tokens * input_per_mtok + completion_tokens * output_per_mtok) / 1_000_000, 9)
