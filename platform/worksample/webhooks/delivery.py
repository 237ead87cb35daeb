"""Delivering one webhook try, scheduling the next, and the reconciler that finds lost ones.

A delivery is `pending` until a receiver answers 2xx (`succeeded`), the tries
run out (`failed`) or its webhook is deleted (`cancelled`). Each try is an RQ
job `run_try(delivery_id, number)`:
1. claim: `tries` goes from number-1 to number while the delivery is pending
   (a fencing token: a duplicate job, or one for a cancelled delivery, does nothing);
2. check the URL again, resolving DNS now (SSRF), and connect to the checked address;
3. POST the event's stored body, signed for this try's timestamp;
4. log the try; on failure schedule try number+1 after the next delay.

At least once: a worker killed mid-try leaves a claimed delivery whose lease
(`next_try_at`) runs out; `reconcile()` (every worker's reaper pass) then
queues the next try. Receivers de-duplicate by the webhook-id header.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select, update

from worksample.config import get_settings
from worksample.db import session_scope
from worksample.db.models import Webhook, WebhookDelivery, WebhookEvent, WebhookTry, utcnow
from worksample.webhooks.signing import headers as signed_headers
from worksample.webhooks.targets import Target, TargetRefused, check

log = logging.getLogger(__name__)
RESPONSE_CAP = 2048  # bytes of the receiver's answer kept in the log
LEASE_MARGIN_S = 30.0  # a claimed try not finished within timeout + this is presumed lost
RECONCILE_GRACE_S = 30.0  # a due try not started this long after its time is re-queued
USER_AGENT = "worksample-webhooks/1"


@dataclass(frozen=True)
class TryResult:
    """What one HTTP try got: a status code, or an error text."""

    status_code: int | None
    error: str | None
    response: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        """A 2xx answer (redirects are not followed: they count as failures)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delays() -> list[float]:
    """Seconds before each retry (from WORKSAMPLE_WEBHOOK_RETRY_DELAYS)."""
    text = get_settings().webhook_retry_delays
    return [float(x) for x in text.split(",") if x.strip()]


def max_tries() -> int:
    """The first try plus one per retry delay."""
    return 1 + len(retry_delays())


def _claim(delivery_id: str, number: int, lease_s: float) -> tuple[str, str, str, str] | None:
    """Take try `number`; (url, secret, event id, body) or None when the try is not ours to make."""
    with session_scope() as db:
        row = db.get(WebhookDelivery, delivery_id)
        if row is None or row.status != "pending" or row.tries != number - 1:
            return None
        hook = db.get(Webhook, row.webhook_id)
        if hook.deleted_at is not None:
            row.status = "cancelled"
            return None
        result = db.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
            WebhookDelivery.tries == number - 1).values(
            tries=number, next_try_at=utcnow() + timedelta(seconds=lease_s), updated_at=utcnow()))
        if result.rowcount != 1:
            return None
        event = db.get(WebhookEvent, row.event_id)
        return hook.url, hook.secret, event.id, event.body


def _address_url(target: Target) -> str:
    parts = urlsplit(target.url)
    host = f"[{target.address}]" if ":" in target.address else target.address
    return urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def post(target: Target, body: str, sig_headers: dict[str, str], timeout: float) -> TryResult:
    """POST `body` to the checked address of `target`; never raises for network trouble.

    Every network step (connect, send, each read) is bounded by `timeout`, and
    reading the answer stops at `timeout` in total; the RQ job timeout is the
    hard outer bound. Environment proxies are ignored (they would bypass the
    address check) and redirects are not followed.
    """
    started = time.monotonic()
    host_header = urlsplit(target.url).netloc.rsplit("@", 1)[-1]
    hdrs = {**sig_headers, "host": host_header, "content-type": "application/json", "user-agent": USER_AGENT}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
            with client.stream("POST", _address_url(target), content=body.encode(), headers=hdrs,
                               extensions=extensions) as resp:
                answer = b""
                for chunk in resp.iter_bytes():
                    answer += chunk
                    if len(answer) >= RESPONSE_CAP or time.monotonic() - started > timeout:
                        break
                text = answer[:RESPONSE_CAP].decode("utf-8", "replace")
                error = f"redirect to {resp.headers.get('location', '?')[:200]} not followed" \
                    if 300 <= resp.status_code < 400 else None
                return TryResult(resp.status_code, error, text, _ms(started))
    except httpx.TimeoutException as exc:
        return TryResult(None, f"timeout after {timeout:g}s ({type(exc).__name__})", None, _ms(started))
    except httpx.HTTPError as exc:
        return TryResult(None, f"{type(exc).__name__}: {str(exc)[:300]}", None, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _send(url: str, secret: str, event_id: str, body: str, timeout: float) -> TryResult:
    started = time.monotonic()
    try:
        target = check(url)
    except TargetRefused as exc:
        return TryResult(None, f"refused: {exc}", None, _ms(started))
    return post(target, body, signed_headers(secret, event_id, body), timeout)


def _finish(delivery_id: str, number: int, result: TryResult, started_at) -> float | None:
    """Log the try and set the outcome; the delay before the next try, or None when there is none."""
    delays = retry_delays()
    delay = None
    with session_scope() as db:
        db.add(WebhookTry(delivery_id=delivery_id, number=number, started_at=started_at,
                          duration_ms=result.duration_ms, status_code=result.status_code,
                          error=(result.error or None) and result.error[:1000], response=result.response))
        values: dict = {"updated_at": utcnow()}
        if result.ok:
            values.update(status="succeeded", delivered_at=utcnow(), next_try_at=None)
        elif number > len(delays):
            values.update(status="failed", next_try_at=None)
        else:
            # Jitter spreads retries of many failed deliveries (one receiver down) over time.
            delay = delays[number - 1] * random.uniform(1.0, 1.1)
            values.update(next_try_at=utcnow() + timedelta(seconds=delay))
        result_ = db.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
            WebhookDelivery.tries == number).values(**values))
        if result_.rowcount != 1:
            return None  # deleted (cancelled) meanwhile: the try is logged, nothing follows
    return delay


def run_try(delivery_id: str, number: int) -> str:
    """Job body: make try `number` of a delivery and schedule the next on failure; returns what happened."""
    timeout = get_settings().webhook_timeout_s
    claimed = _claim(delivery_id, number, timeout + LEASE_MARGIN_S)
    if claimed is None:
        return "skipped"
    started_at = utcnow()
    result = _send(*claimed, timeout=timeout)
    delay = _finish(delivery_id, number, result, started_at)
    if delay is not None:
        from worksample.jobs.webhooks import enqueue_try

        enqueue_try(delivery_id, number + 1, delay)
    if result.ok:
        return f"delivered ({result.status_code})"
    return f"try {number} failed: {result.status_code or result.error}"


def enqueue_first_tries(delivery_ids: list[str]) -> None:
    """Queue try 1 of each delivery; Redis being down is logged, not raised (the reconciler sends them)."""
    from worksample.jobs.webhooks import enqueue_try

    for delivery_id in delivery_ids:
        try:
            enqueue_try(delivery_id, 1)
        except Exception as exc:  # Redis down or flaky: the delivery row is the truth
            log.warning("webhook delivery %s waits for the reconciler: %s: %s", delivery_id, type(exc).__name__, exc)


def reconcile(grace_s: float = RECONCILE_GRACE_S) -> list[str]:
    """Queue the next try of every pending delivery that is overdue and has no job waiting; their ids.

    Overdue means its time (first try, retry, or a claimed try's lease) passed
    more than `grace_s` ago: a worker died mid-try, or Redis lost the job.
    """
    from worksample.jobs.webhooks import enqueue_try, try_is_waiting

    cutoff = utcnow() - timedelta(seconds=grace_s)
    with session_scope() as db:
        due = db.execute(select(WebhookDelivery.id, WebhookDelivery.tries).where(
            WebhookDelivery.status == "pending", WebhookDelivery.next_try_at < cutoff)).all()
    queued = []
    limit = max_tries()
    for delivery_id, tries in due:
        if tries >= limit:  # the last try was lost mid-flight: count it as failed
            _give_up(delivery_id, tries)
            continue
        if try_is_waiting(delivery_id, tries + 1):
            continue
        enqueue_try(delivery_id, tries + 1)
        queued.append(delivery_id)
    return queued


def _give_up(delivery_id: str, tries: int) -> None:
    with session_scope() as db:
        db.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                 WebhookDelivery.status == "pending", WebhookDelivery.tries == tries)
                   .values(status="failed", next_try_at=None, updated_at=utcnow()))
