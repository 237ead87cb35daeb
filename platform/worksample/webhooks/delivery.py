"""Delivering one webhook try, scheduling the next, and the reconciler that finds lost ones.

A delivery is `pending` until a receiver answers 2xx (`succeeded`), the tries
run out (`failed`) or its webhook is deleted (`cancelled`); `next_try_at` says
when its next try is due. RQ jobs `drain()` make every due try, several at a
time; each try, `run_try(delivery_id, number)`:
1. claims it: `tries` goes from number-1 to number while the delivery is pending,
   and `next_try_at` becomes a lease (a fencing token: two drains, or a drain
   racing a delete, never send one try twice);
2. checks the URL again, resolving DNS now (SSRF), and connects to the checked address;
3. POSTs the event's stored body, signed for this try's timestamp;
4. logs the try; on failure sets the next due time and schedules a drain for it.

At least once: a worker killed mid-try leaves a claimed delivery whose lease
runs out; `reconcile()` (run every few seconds by the API, see
worksample.web.routes.webhooks) then queues a drain that makes the next try. Receivers de-duplicate by the webhook-id header.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
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
RECONCILE_GRACE_S = 30.0  # a due try not started this long after its time gets a new drain job
DRAIN_BUDGET_S = 20.0  # one drain job works this long at most, then hands over to a fresh job
CONCURRENCY = 8  # tries in flight per drain job (threads: the work is waiting on receivers)
IDLE_LINGER_S = 2.0  # a drain with nothing due waits this long for new events before ending
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


def _log_lost_try(db, delivery_id: str, number: int) -> None:
    """Before try `number`, log try number-1 if it left no line: its worker died before an answer came."""
    if number < 2:
        return
    logged = db.scalar(select(WebhookTry.id).where(WebhookTry.delivery_id == delivery_id,
                                                   WebhookTry.number == number - 1))
    if logged is None:
        db.add(WebhookTry(delivery_id=delivery_id, number=number - 1, started_at=utcnow(), duration_ms=0,
                          error="interrupted: the worker stopped before an answer was recorded"))


def _claim_in(db, delivery_id: str, number: int, lease_s: float) -> tuple[str, str, str, str] | None:
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
    _log_lost_try(db, delivery_id, number)
    event = db.get(WebhookEvent, row.event_id)
    return hook.url, hook.secret, event.id, event.body


def _claim(delivery_id: str, number: int, lease_s: float) -> tuple[str, str, str, str] | None:
    """Take try `number`; (url, secret, event id, body) or None when the try is not ours to make."""
    with session_scope() as db:
        return _claim_in(db, delivery_id, number, lease_s)


def claim_batch(due: list[tuple[str, int]], lease_s: float) -> list[tuple[str, int, tuple]]:
    """Claim the next try of several deliveries in one transaction; (delivery id, number, claimed) of those won.

    One joined read for the batch, then one fenced UPDATE per delivery (a row
    another drain claimed meanwhile is skipped: its UPDATE matches nothing).
    """
    expected = dict(due)
    lease = utcnow() + timedelta(seconds=lease_s)
    won = []
    with session_scope() as db:
        rows = db.execute(
            select(WebhookDelivery.id, WebhookDelivery.tries, WebhookDelivery.status, Webhook.url, Webhook.secret,
                   Webhook.deleted_at, WebhookEvent.id, WebhookEvent.body)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_(list(expected)))).all()
        for delivery_id, tries, status, url, secret, deleted_at, event_id, body in rows:
            if status != "pending" or tries != expected[delivery_id]:
                continue
            fence = (WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                     WebhookDelivery.tries == tries)
            if deleted_at is not None:
                db.execute(update(WebhookDelivery).where(*fence).values(status="cancelled", updated_at=utcnow())
                           .execution_options(synchronize_session=False))
                continue
            result = db.execute(update(WebhookDelivery).where(*fence)
                                .values(tries=tries + 1, next_try_at=lease, updated_at=utcnow())
                                .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                _log_lost_try(db, delivery_id, tries + 1)
                won.append((delivery_id, tries + 1, (url, secret, event_id, body)))
    return won


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Built once: loading the CA bundle for every try cost ~0.3 s of CPU each (measured under load).
    return ssl.create_default_context()


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
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                          verify=_tls()) as client:
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
    """Make try `number` of a delivery if it is still ours to make; returns what happened."""
    timeout = get_settings().webhook_timeout_s
    claimed = _claim(delivery_id, number, timeout + LEASE_MARGIN_S)
    if claimed is None:
        return "skipped"
    return _try_claimed(delivery_id, number, claimed, timeout)


def _try_claimed(delivery_id: str, number: int, claimed: tuple, timeout: float) -> str:
    started_at = utcnow()
    result = _send(*claimed, timeout=timeout)
    delay = _finish(delivery_id, number, result, started_at)
    if delay is not None:
        _schedule_drain(delay)
    if result.ok:
        return f"delivered ({result.status_code})"
    return f"try {number} failed: {result.status_code or result.error}"


def _schedule_drain(delay: float) -> None:
    from worksample.jobs.webhooks import enqueue_drain

    try:
        enqueue_drain(delay)
    except Exception as exc:  # Redis away: next_try_at is in the database; the reconciler queues it
        log.warning("webhooks: drain not queued in Redis (%s: %s); the reconciler will", type(exc).__name__, exc)


def due_deliveries(limit: int, now=None) -> list[tuple[str, int]]:
    """(delivery id, tries so far) of pending deliveries whose next try (or lost try's lease) is due, oldest first."""
    with session_scope() as db:
        return [tuple(r) for r in db.execute(
            select(WebhookDelivery.id, WebhookDelivery.tries)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_try_at <= (now or utcnow()))
            .order_by(WebhookDelivery.next_try_at).limit(limit))]


def drain(budget_s: float = DRAIN_BUDGET_S, concurrency: int = CONCURRENCY) -> dict:
    """Job body: make every due try, up to `concurrency` at once, for up to `budget_s`; counts of what happened.

    Many deliveries share one job (and one worker process), so a burst of events
    costs one job start, not one per event; a receiver that hangs holds one slot,
    not the others. Each try claims its delivery first, so two drains running at
    once never send the same try twice.
    """
    started = time.monotonic()
    idle_since = None
    timeout = get_settings().webhook_timeout_s
    counts = {"tries": 0, "delivered": 0, "gave_up": 0}
    limit = max_tries()
    running: dict = {}  # future -> delivery id
    with ThreadPoolExecutor(concurrency, thread_name_prefix="webhook") as pool:
        while True:
            in_budget = time.monotonic() - started < budget_s
            free = concurrency - len(running)
            batch = due_deliveries(concurrency * 2) if in_budget and free > 0 else []
            batch = [b for b in batch if b[0] not in running.values()]
            for delivery_id, tries in [b for b in batch if b[1] >= limit]:
                _give_up(delivery_id, tries)  # its last try was lost mid-flight (worker killed)
                counts["gave_up"] += 1
            wanted = [b for b in batch if b[1] < limit][:free]
            for delivery_id, number, claimed in claim_batch(wanted, timeout + LEASE_MARGIN_S) if wanted else []:
                running[pool.submit(_try_claimed, delivery_id, number, claimed, timeout)] = delivery_id
            if not running:
                # Linger a moment: during a burst of events this job keeps going instead of a new one starting.
                idle_since = idle_since or time.monotonic()
                if not in_budget or time.monotonic() - idle_since > IDLE_LINGER_S:
                    break
                time.sleep(0.1)
                continue
            idle_since = None
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                del running[future]
                outcome = future.result()
                counts["tries"] += 1
                counts["delivered"] += outcome.startswith("delivered")
    if due_deliveries(1):
        _schedule_drain(0)  # out of budget with work left: a fresh job carries on
    return counts


def enqueue_first_tries(delivery_ids: list[str]) -> None:
    """Make sure a drain job will send these new deliveries; Redis down is logged, not raised."""
    if delivery_ids:
        _schedule_drain(0)


def reconcile(grace_s: float = RECONCILE_GRACE_S) -> bool:
    """Queue a drain if a delivery is overdue by more than `grace_s` (its job lost with Redis, or its
    worker killed mid-try) and no drain is waiting; True if one was queued. The API runs it periodically."""
    from worksample.jobs.webhooks import drain_waiting, enqueue_drain

    if not due_deliveries(1, now=utcnow() - timedelta(seconds=grace_s)) or drain_waiting():
        return False
    enqueue_drain(0)
    return True


def _give_up(delivery_id: str, tries: int) -> None:
    with session_scope() as db:
        db.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                 WebhookDelivery.status == "pending", WebhookDelivery.tries == tries)
                   .values(status="failed", next_try_at=None, updated_at=utcnow()))
