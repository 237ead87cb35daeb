"""Invitations: one link per candidate, one attempt per link.

The token is 192 random bits (`secrets.token_urlsafe(24)`); only its sha256 is
stored, so a database leak hands out no working links. Looking a token up is a
hash-and-select, the same cost whether or not it exists.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from worksample.config import get_settings
from worksample.db import Attempt, Invitation, session_scope
from worksample.db.models import AttemptStatus, utcnow
from worksample.errors import NotFound, UsageError
from worksample.catalog.sync import ensure_task

TOKEN_BYTES = 24  # 192 bits of randomness
DEFAULT_VALIDITY = timedelta(days=14)


class InvitationState(str, enum.Enum):
    """What a link is worth right now."""

    unknown = "unknown"
    revoked = "revoked"
    expired = "expired"
    used = "used"  # its attempt was submitted (or cut off at the deadline)
    open = "open"  # not started yet
    running = "running"  # started, the clock is running


@dataclass(frozen=True)
class InvitationCreated:
    """A new invitation; `token` is shown once and never stored."""

    id: str
    token: str
    url: str


@dataclass(frozen=True)
class InvitationView:
    """An invitation as the landing page needs it."""

    state: InvitationState
    invitation_id: str | None = None
    task_id: str | None = None
    task_slug: str | None = None
    task_title: str | None = None
    task_path: str | None = None
    time_limit_s: int | None = None
    candidate_name: str | None = None
    attempt_id: str | None = None


class UnknownTask(NotFound):
    """An invite names a task that is neither in the database nor on disk."""


def hash_invite(token: str) -> str:
    """The stored form of an invite token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite_url(token: str) -> str:
    """The link a candidate opens."""
    return f"{get_settings().public_url.rstrip('/')}/c/{token}"


def create_invitation(slug: str, name: str, email: str, created_by: str | None = None,
                      valid_for: timedelta = DEFAULT_VALIDITY) -> InvitationCreated:
    """Invite `name <email>` to the task `slug`; raises UnknownTask or UsageError for bad input."""
    name, email = name.strip(), email.strip()
    if not name:
        raise UsageError("candidate.name: must not be empty")
    if "@" not in email or len(email) > 320:
        raise UsageError(f"candidate.email: {email!r} is not an email address")
    task = ensure_task(slug)
    if task is None:
        raise UnknownTask(f"task {slug!r} is not in the catalog (see `worksample task list`)")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with session_scope() as db:
        row = Invitation(token_hash=hash_invite(token), task_id=task.id, candidate_name=name,
                         candidate_email=email, created_by=created_by, expires_at=utcnow() + valid_for)
        db.add(row)
        db.flush()
        made = InvitationCreated(id=row.id, token=token, url=invite_url(token))
    from worksample.webhooks import events  # H6: webhook event, after the commit

    events.invitation_created(made.id)
    from worksample.mail import mail_invitation  # H6: with WORKSAMPLE_SMTP_URL set, the link is mailed

    mail_invitation(made.id, made.url)
    return made


def view_invitation(token: str) -> InvitationView:
    """What the token opens; `unknown` for anything not issued (never says why)."""
    if not token or len(token) > 128:
        return InvitationView(InvitationState.unknown)
    with session_scope() as db:
        inv = db.scalar(select(Invitation).where(Invitation.token_hash == hash_invite(token)))
        if inv is None:
            return InvitationView(InvitationState.unknown)
        attempt = db.scalar(select(Attempt).where(Attempt.invitation_id == inv.id))
        return InvitationView(
            state=_state(inv, attempt), invitation_id=inv.id, task_id=inv.task_id, task_slug=inv.task.slug,
            task_title=inv.task.title, task_path=inv.task.path,
            time_limit_s=_time_limit_s(inv.task.spec), candidate_name=inv.candidate_name,
            attempt_id=attempt.id if attempt else None)


def _state(inv: Invitation, attempt: Attempt | None) -> InvitationState:
    if attempt is not None and attempt.status is AttemptStatus.revoked:
        return InvitationState.revoked  # withdrawn mid-attempt: the link no longer offers "Continue"
    if attempt is not None and attempt.status is not AttemptStatus.running:
        return InvitationState.used
    if attempt is not None:
        return InvitationState.running
    if inv.revoked_at is not None:
        return InvitationState.revoked
    expires = inv.expires_at
    if expires is not None and expires <= utcnow():
        return InvitationState.expired
    return InvitationState.open


def _time_limit_s(spec: dict) -> int:
    from worksample.catalog.spec import parse_duration

    return int(parse_duration(spec.get("time_limit", "2h")).total_seconds())
