"""Webhooks: signed events to the applicant-tracking systems an admin registers (DESIGN §12).

Modules: `signing` (Standard Webhooks HMAC), `targets` (SSRF checks), `registry`
(webhooks, the delivery log, redeliver), `delivery` (one HTTP try, retries,
the reconciler). Jobs go through `worksample.jobs.webhooks` (the only RQ code).

Emit an event where it happens, after the action has committed:

    from worksample.webhooks import emit
    emit("review.submitted", {"submission_id": sid, "reviewer_id": uid, "recommendation": "yes"})

`emit` never raises for delivery trouble (a broken receiver, Redis down): the
action that emitted it is never affected; the database holds the delivery and
the reconciler sends it when Redis is back.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timezone

EVENTS = ("invitation.created", "attempt.started", "submission.created", "submission.graded",
          "review.submitted", "decision.made")
log = logging.getLogger(__name__)


def new_event_id() -> str:
    """A message id for the webhook-id header (no dots, as the signature scheme requires)."""
    return "msg_" + secrets.token_hex(16)


def event_body(event: str, data: dict, when: datetime | None = None) -> str:
    """The exact JSON text sent (and signed) for an event: {"type", "timestamp", "data"}."""
    when = when or datetime.now(timezone.utc)
    return json.dumps({"type": event, "timestamp": when.isoformat().replace("+00:00", "Z"), "data": data},
                      separators=(",", ":"), default=str)


def emit(event: str, data: dict) -> str | None:
    """Queue `event` with `data` for every webhook subscribed to it; the event id, or None if nobody listens.

    Raises ValueError for an event name outside EVENTS (a programming error);
    anything else that fails is logged, never raised into the caller.
    """
    if event not in EVENTS:
        raise ValueError(f"event: {event!r} is not one of {', '.join(EVENTS)}")
    from worksample.webhooks.delivery import enqueue_first_tries
    from worksample.webhooks.registry import store_event

    try:
        stored = store_event(event, data)
    except Exception:  # the database refused: the emitting action already happened; say so loudly
        log.exception("webhooks: could not store event %s", event)
        return None
    if stored is None:
        return None
    event_id, delivery_ids = stored
    enqueue_first_tries(delivery_ids)
    return event_id
