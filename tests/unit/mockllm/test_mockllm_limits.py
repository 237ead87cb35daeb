"""Token buckets, rate-limit refusals, budget and cost."""

from __future__ import annotations

import math

import pytest

from worksample.mockllm.limits import Budget, KeyLimits, TokenBucket, cost_usd
from worksample.mockllm.profile import Incident, RateLimits
from worksample.mockllm.wire import format_duration, retry_headers


def test_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(60, 1.0, now=0.0)
    bucket.take(60, 0.0)
    assert bucket.wait_for(1, 0.0) == pytest.approx(1.0)
    assert bucket.wait_for(1, 0.5) == pytest.approx(0.5)
    assert bucket.wait_for(1, 1.0) == 0
    assert bucket.remaining(30.0) == 30
    assert bucket.remaining(1000.0) == 60  # never above capacity


def test_bucket_debt_lengthens_the_wait() -> None:
    bucket = TokenBucket(100, 10.0, now=0.0)
    bucket.take(150, 0.0)
    assert bucket.remaining(0.0) == 0
    assert bucket.wait_for(10, 0.0) == pytest.approx(6.0)


def test_more_than_capacity_never_fits() -> None:
    assert math.isinf(TokenBucket(10, 1.0, 0.0).wait_for(11, 0.0))


def test_rpm_refusal_says_requests_and_how_long() -> None:
    limits = KeyLimits(RateLimits(rpm=2, tpm=1000), now=0.0)
    assert limits.admit(10, 0.0) is None
    assert limits.admit(10, 0.0) is None
    refusal = limits.admit(10, 0.0)
    assert refusal is not None and refusal.dimension == "requests"
    assert (refusal.limit, refusal.used, refusal.requested) == (2, 2, 1)
    assert refusal.wait_s == pytest.approx(30.0)  # 2 per minute: one every 30 s
    assert limits.admit(10, 30.0) is None


def test_tpm_refusal_and_request_too_large() -> None:
    limits = KeyLimits(RateLimits(rpm=1000, tpm=600), now=0.0)
    assert limits.admit(500, 0.0) is None
    limits.charge_tokens(500, 0.0)
    refusal = limits.admit(200, 0.0)
    assert refusal is not None and refusal.dimension == "tokens" and refusal.requested == 200
    assert refusal.wait_s == pytest.approx(10.0)  # 100 missing at 10 tokens/s
    too_big = limits.admit(601, 100.0)
    assert too_big is not None and math.isinf(too_big.wait_s)


def test_storm_adds_a_tighter_bucket_only_while_it_lasts() -> None:
    limits = KeyLimits(RateLimits(rpm=1000, tpm=100000), now=0.0)
    storm = (0, Incident(kind="rate_limit_storm", start_s=0, duration_s=60, rpm=1))
    assert limits.admit(1, 0.0, storm) is None
    refused = limits.admit(1, 0.1, storm)
    assert refused is not None and refused.limit == 1
    assert limits.admit(1, 0.1) is None  # outside the storm the normal bucket has room
    view = limits.headers(0.1, storm)
    assert view["requests"][0] == 1


def test_budget() -> None:
    budget = Budget(0.01)
    assert not budget.exhausted()
    budget.spend(0.006)
    assert not budget.exhausted()
    budget.spend(0.004)
    assert budget.exhausted()
    assert not Budget(None).exhausted()


def test_cost_from_prices() -> None:
    assert cost_usd(1_000_000, 0, 0.15, 0.60) == pytest.approx(0.15)
    assert cost_usd(1000, 500, 2.5, 10.0) == pytest.approx(0.0025 + 0.005)
    assert cost_usd(0, 0, 1, 1) == 0


@pytest.mark.parametrize(("seconds", "text"), [(0.0204, "21ms"), (1.2, "1.2s"), (7.0, "7s"), (360, "6m0s"), (0, "0ms")])
def test_durations_read_like_the_real_api(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert dict(retry_headers(0.2)) == {b"retry-after": b"1", b"retry-after-ms": b"200"}
    assert dict(retry_headers(2.0001)) == {b"retry-after": b"3", b"retry-after-ms": b"2001"}
