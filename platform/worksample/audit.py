"""The audit log: every staff action (login ok/failed, invite, revoke, extend, review, decision,
token, user, webhook change) as one row in `audit_events`, shown to admins at /admin/audit.

Call `record(...)` right after the action took effect (or failed, for logins), e.g.

    audit.record("invitation.revoke", actor=staff, target=invitation_id)
    audit.record("login.failed", actor="someone@example.com", ok=False, client=request.client.host)

Pass `db=` to write in the caller's own transaction, so the action and its
audit row commit together. Action names are `noun.verb` words (see ACTIONS);
an unknown name is accepted but logged, so a typo never loses an event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from worksample.db import session_scope
from worksample.db.models import AuditEvent, utcnow

log = logging.getLogger(__name__)

# The actions the platform records; others are stored too (and logged as unexpected).
ACTIONS = frozenset({
    "login.ok", "login.failed", "logout", "password.set", "password.change",
    "invitation.create", "invitation.bulk", "invitation.revoke", "invitation.relink",
    "attempt.extend", "attempt.revoke",
    "review.submit", "decision.make",
    "token.create", "token.revoke", "user.create", "user.update",
    "webhook.create", "webhook.delete", "webhook.redeliver",
    "job.retry",
})
DETAIL_CAP = 4000  # characters of JSON detail kept per row


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log as pages and the API show it."""

    id: int
    ts: datetime
    actor_id: str | None
    actor: str | None
    action: str
    target: str | None
    ok: bool
    client: str | None
    detail: dict


def _actor(actor: Any) -> tuple[str | None, str | None]:
    # Accept a staff object (anything with user_id / id and name / email) or a plain string.
    if actor is None:
        return None, None
    if isinstance(actor, str):
        return None, actor[:320]
    actor_id = getattr(actor, "user_id", None) or getattr(actor, "id", None)
    label = getattr(actor, "email", None) or getattr(actor, "name", None)
    return (str(actor_id)[:32] if actor_id else None), (str(label)[:320] if label else None)


def _bounded(detail: dict | None) -> dict:
    import json

    detail = dict(detail or {})
    text = json.dumps(detail, default=str)
    return detail if len(text) <= DETAIL_CAP else {"truncated": text[:DETAIL_CAP]}


def record(action: str, *, actor: Any = None, target: str | None = None, detail: dict | None = None,
           ok: bool = True, client: str | None = None, db: Session | None = None) -> None:
    """Append one event to the audit log.

    `actor` is a staff object (with `user_id`/`id` and `name`/`email`) or a string
    (e.g. the e-mail a failed login gave). With `db`, the row joins that session's
    transaction; otherwise it is committed at once. Raises only database errors.
    """
    if action not in ACTIONS:
        log.warning("audit: unexpected action name %r (recorded anyway)", action)
    actor_id, label = _actor(actor)
    row = AuditEvent(ts=utcnow(), actor_id=actor_id, actor=label, action=action[:64],
                     target=str(target)[:200] if target is not None else None, ok=ok,
                     client=(client or None) and client[:64], detail=_bounded(detail))
    if db is not None:
        db.add(row)
        return
    with session_scope() as session:
        session.add(row)


def entries(limit: int = 100, before_id: int | None = None, action: str | None = None,
            actor: str | None = None) -> list[AuditEntry]:
    """The newest events first (at most `limit`, older than `before_id` when paging), optionally filtered."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 500)))
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor:
        query = query.where(AuditEvent.actor.contains(actor))
    with session_scope() as db:
        return [AuditEntry(r.id, r.ts, r.actor_id, r.actor, r.action, r.target, r.ok, r.client,
                           r.detail or {}) for r in db.scalars(query)]


def count() -> int:
    """How many events the log holds."""
    with session_scope() as db:
        return db.scalar(select(func.count(AuditEvent.id))) or 0
