"""Webhooks and their delivery log in the database: register, list, delete, store events, redeliver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from worksample.db import session_scope
from worksample.db.models import Webhook, WebhookDelivery, WebhookEvent, WebhookTry, utcnow
from worksample.errors import WorksampleError
from worksample.webhooks import EVENTS, event_body, new_event_id
from worksample.webhooks.signing import new_secret
from worksample.webhooks.targets import check

MAX_WEBHOOKS = 50
DELIVERY_PAGE = 100


class WebhookInvalid(WorksampleError):
    """A registration the platform refuses; the message names the field."""


class WebhookNotFound(WorksampleError):
    """No (live) webhook or delivery with that id."""


@dataclass(frozen=True)
class WebhookView:
    """A registered webhook as the page and API show it (never the secret)."""

    id: str
    url: str
    events: list[str]
    created_at: datetime
    deleted: bool

    def public(self) -> dict:
        """The JSON the API returns."""
        return {"id": self.id, "url": self.url, "events": self.events, "created_at": self.created_at.isoformat(),
                "deleted": self.deleted}


@dataclass(frozen=True)
class TryView:
    """One HTTP try of a delivery."""

    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    response: str | None


@dataclass(frozen=True)
class DeliveryView:
    """One event for one webhook with every try."""

    id: str
    event_id: str
    event_type: str
    status: str
    created_at: datetime
    delivered_at: datetime | None
    next_try_at: datetime | None
    tries: list[TryView] = field(default_factory=list)

    def public(self) -> dict:
        """The JSON the API returns."""
        iso = lambda ts: ts.isoformat() if ts else None  # noqa: E731
        return {"id": self.id, "event_id": self.event_id, "event": self.event_type, "status": self.status,
                "created_at": iso(self.created_at), "delivered_at": iso(self.delivered_at),
                "next_try_at": iso(self.next_try_at) if self.status == "pending" else None,
                "tries": [{"number": t.number, "at": iso(t.started_at), "duration_ms": t.duration_ms,
                           "status_code": t.status_code, "error": t.error, "response": t.response}
                          for t in self.tries]}


def _events(events: object) -> list[str]:
    if not isinstance(events, list) or not events:
        raise WebhookInvalid(f"events: a non-empty list of {', '.join(EVENTS)}")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise WebhookInvalid(f"events: unknown {', '.join(map(str, unknown))} (known: {', '.join(EVENTS)})")
    return [e for e in EVENTS if e in events]


def create_webhook(url: str, events: list[str], created_by: str | None = None) -> tuple[WebhookView, str]:
    """Register `url` for `events`; returns the webhook and its secret (shown once).

    Raises WebhookInvalid (bad events, too many webhooks) or TargetRefused (the URL, SSRF rules).
    """
    chosen = _events(events)
    check(url)
    with session_scope() as db:
        live = db.scalars(select(Webhook.id).where(Webhook.deleted_at.is_(None))).all()
        if len(live) >= MAX_WEBHOOKS:
            raise WebhookInvalid(f"url: at most {MAX_WEBHOOKS} webhooks; delete one first")
        secret = new_secret()
        row = Webhook(url=url, events=chosen, secret=secret, created_by=created_by, created_at=utcnow())
        db.add(row)
        db.flush()
        return _view(row), secret


def _view(row: Webhook) -> WebhookView:
    return WebhookView(row.id, row.url, list(row.events or []), row.created_at, row.deleted_at is not None)


def list_webhooks(include_deleted: bool = False) -> list[WebhookView]:
    """Registered webhooks, newest first."""
    query = select(Webhook).order_by(Webhook.created_at.desc())
    if not include_deleted:
        query = query.where(Webhook.deleted_at.is_(None))
    with session_scope() as db:
        return [_view(r) for r in db.scalars(query)]


def get_webhook(webhook_id: str) -> WebhookView:
    """One webhook (deleted ones too, for their log); raises WebhookNotFound."""
    with session_scope() as db:
        row = db.get(Webhook, webhook_id)
        if row is None:
            raise WebhookNotFound(f"no webhook {webhook_id}")
        return _view(row)


def delete_webhook(webhook_id: str) -> list[str]:
    """Delete a webhook: no new events, pending retries cancelled; returns the cancelled delivery ids.

    The row and its log stay (deleted_at set) so the delivery log can still be read.
    Raises WebhookNotFound.
    """
    with session_scope() as db:
        row = db.get(Webhook, webhook_id)
        if row is None or row.deleted_at is not None:
            raise WebhookNotFound(f"no webhook {webhook_id}")
        row.deleted_at = utcnow()
        pending = list(db.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "pending")))
        db.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(pending))
                   .values(status="cancelled", updated_at=utcnow()))
    return pending


def store_event(event: str, data: dict) -> tuple[str, list[str]] | None:
    """Write the event and one pending delivery per subscribed webhook; None when no webhook wants it."""
    with session_scope() as db:
        hooks = [h for h in db.scalars(select(Webhook).where(Webhook.deleted_at.is_(None)))
                 if event in (h.events or [])]
        if not hooks:
            return None
        now = utcnow()
        row = WebhookEvent(id=new_event_id(), type=event, body=event_body(event, data, now), created_at=now)
        db.add(row)
        deliveries = [WebhookDelivery(webhook_id=h.id, event_id=row.id, status="pending", tries=0, next_try_at=now,
                                      created_at=now, updated_at=now) for h in hooks]
        db.add_all(deliveries)
        db.flush()
        return row.id, [d.id for d in deliveries]


def deliveries(webhook_id: str, limit: int = DELIVERY_PAGE) -> list[DeliveryView]:
    """The webhook's deliveries, newest first, each with its tries; raises WebhookNotFound."""
    get_webhook(webhook_id)
    with session_scope() as db:
        rows = list(db.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                               .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)))
        tries: dict[str, list[TryView]] = {r.id: [] for r in rows}
        for t in db.scalars(select(WebhookTry).where(WebhookTry.delivery_id.in_(list(tries)))
                            .order_by(WebhookTry.number)):
            tries[t.delivery_id].append(TryView(t.number, t.started_at, t.duration_ms, t.status_code,
                                                t.error, t.response))
        return [DeliveryView(r.id, r.event_id, r.event.type, r.status, r.created_at, r.delivered_at,
                             r.next_try_at, tries[r.id]) for r in rows]


def redeliver(webhook_id: str, delivery_id: str) -> str:
    """Send a delivery's event again as a new delivery (same webhook-id, so receivers can de-duplicate).

    Returns the new delivery id. Raises WebhookNotFound for an unknown or deleted webhook/delivery.
    """
    with session_scope() as db:
        old = db.get(WebhookDelivery, delivery_id)
        hook = db.get(Webhook, webhook_id)
        if old is None or hook is None or old.webhook_id != webhook_id or hook.deleted_at is not None:
            raise WebhookNotFound(f"no delivery {delivery_id} of a live webhook {webhook_id}")
        now = utcnow()
        new = WebhookDelivery(webhook_id=webhook_id, event_id=old.event_id, status="pending", tries=0,
                              next_try_at=now, created_at=now, updated_at=now)
        db.add(new)
        db.flush()
        new_id = new.id
    from worksample.webhooks.delivery import enqueue_first_tries

    enqueue_first_tries([new_id])
    return new_id
