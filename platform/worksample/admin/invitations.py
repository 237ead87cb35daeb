"""Invitations for the admin console: the list with stages, one or many at once, a new link, expiry.

Revoke and extend are the attempt clock's (worksample.workspace.deadlines);
this module only creates and lists. A CSV upload is validated whole
(worksample.admin.csv_import) and then created in one transaction, so a bad
row creates nothing. Each new invitation emits `invitation.created` and, with
WORKSAMPLE_SMTP_URL set, is mailed.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from worksample import audit, mail
from worksample.admin.csv_import import parse_invitation_csv
from worksample.db import Attempt, Invitation, Task, session_scope
from worksample.db.models import AttemptStatus, utcnow
from worksample.errors import Conflict, DomainError, Invalid, NotFound

log = logging.getLogger(__name__)
DEFAULT_EXPIRY_DAYS = 14
MAX_EXPIRY_DAYS = 90


# What this module refuses with: the platform's domain errors (NotFound 404, Conflict 409, Invalid 422).
Refused = DomainError


class CsvRefused(Invalid):
    """An upload with problems; `problems` lists them as `line N: field: reason`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems[:5]) + (" …" if len(problems) > 5 else ""))


@dataclass(frozen=True)
class Created:
    """A new invitation: the link is shown once (and mailed when SMTP is set up)."""

    id: str
    task: str
    name: str
    email: str
    url: str
    expires_at: datetime
    mailed: bool = False

    def public(self) -> dict:
        """The JSON the API returns for it."""
        return {"id": self.id, "task": self.task, "candidate": {"name": self.name, "email": self.email},
                "url": self.url, "token": self.url.rsplit("/", 1)[-1], "expires_at": self.expires_at.isoformat(),
                "mailed": self.mailed}


@dataclass(frozen=True)
class Extra:
    """What the invitations page needs beyond the review rows: expiry and the running attempt's deadline."""

    expires_at: datetime | None
    attempt_status: str | None
    deadline: datetime | None
    invited_at: datetime | None = None


def expiry_days(value: object) -> int:
    """`expires_in_days` checked: an integer in 1..MAX_EXPIRY_DAYS (default 14); raises Invalid."""
    if value in (None, ""):
        return DEFAULT_EXPIRY_DAYS
    try:
        days = int(str(value))
    except ValueError:
        raise Invalid(f"expires_in_days: {str(value)[:20]!r} is not a whole number") from None
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise Invalid(f"expires_in_days: must be between 1 and {MAX_EXPIRY_DAYS}")
    return days


def list_rows(viewer, slug: str | None = None):
    """Every invitation (of task `slug`, if given) as `viewer` may see it, newest first, with extras by id."""
    from worksample.review.rows import load_rows, load_tasks

    with session_scope() as db:
        tasks = load_tasks(db, slug)
        rows = load_rows(db, viewer, tasks)
        ids = [t.id for t in tasks]
        extras = {inv_id: Extra(expires, status.value if status else None, deadline, created)
                  for inv_id, expires, status, deadline, created in db.execute(
                      select(Invitation.id, Invitation.expires_at, Attempt.status, Attempt.deadline,
                             Invitation.created_at)
                      .outerjoin(Attempt, Attempt.invitation_id == Invitation.id)
                      .where(Invitation.task_id.in_(ids)))}
    rows.reverse()
    return rows, extras


_synced_at = 0.0
CATALOG_SYNC_S = 30.0  # hashing every task folder on each page view would be wasteful


def catalog_slugs(force: bool = False) -> set[str]:
    """Slugs an invitation may name: the catalog's valid folders (synced into the database at most every
    CATALOG_SYNC_S, so pages list tasks never invited to yet) and the tasks already in the database."""
    global _synced_at
    from worksample.catalog.sync import sync_catalog

    if force or time.monotonic() - _synced_at > CATALOG_SYNC_S:
        try:
            sync_catalog()
            _synced_at = time.monotonic()
        except Exception as exc:  # an unreadable catalog dir: the database rows still count
            log.warning("catalog not readable: %s", exc)
    with session_scope() as db:
        return set(db.scalars(select(Task.slug)))


def _live_pairs(db) -> set[tuple[str, str]]:
    now = utcnow()
    pairs = set()
    for email, slug, revoked, expires, status in db.execute(
            select(Invitation.candidate_email, Task.slug, Invitation.revoked_at, Invitation.expires_at, Attempt.status)
            .join(Task, Task.id == Invitation.task_id).outerjoin(Attempt, Attempt.invitation_id == Invitation.id)):
        expired = expires is not None and expires <= now
        if revoked is None and (status is AttemptStatus.running or (status is None and not expired)):
            pairs.add((email.lower(), slug))
    return pairs


def create_bulk(data: bytes, default_task: str | None, days: int, staff) -> list[Created]:
    """Create every invitation of a CSV upload, or none: raises CsvRefused with the line problems."""
    from worksample.catalog.sync import ensure_task
    from worksample.workspace.invitations import hash_invite, invite_url

    known = catalog_slugs(force=True)
    with session_scope() as db:
        live = _live_pairs(db)
    rows, problems = parse_invitation_csv(data, known, default_task or None, live)
    if problems:
        raise CsvRefused(problems)
    task_ids = {}
    for slug in {r.task for r in rows}:
        task = ensure_task(slug)
        if task is None:
            raise CsvRefused([f"line {next(r.line for r in rows if r.task == slug)}: task: {slug!r} is not in the catalog"])
        task_ids[slug] = (task.id, task.title)
    expires = utcnow() + timedelta(days=days)
    created = []
    with session_scope() as db:
        for row in rows:
            token = secrets.token_urlsafe(24)
            inv = Invitation(token_hash=hash_invite(token), task_id=task_ids[row.task][0], candidate_name=row.name,
                             candidate_email=row.email, created_by=getattr(staff, "user_id", None), expires_at=expires)
            db.add(inv)
            db.flush()
            created.append(Created(inv.id, row.task, row.name, row.email, invite_url(token), expires))
        audit.record("invitation.bulk", actor=staff, target=f"{len(created)} invitations",
                     detail={"tasks": sorted(task_ids), "ids": [c.id for c in created][:100]}, db=db)
    titles = {slug: title for slug, (_id, title) in task_ids.items()}
    created = _mail(created, titles)
    _emit_created(created)
    return created


def create_one(slug: str, name: str, email: str, days: int, staff) -> Created:
    """Invite one candidate (raises UnknownTask, UsageError from the invitation module)."""
    from worksample.workspace.invitations import create_invitation

    made = create_invitation(slug, name, email, getattr(staff, "user_id", None), valid_for=timedelta(days=days))
    audit.record("invitation.create", actor=staff, target=made.id, detail={"task": slug})
    # create_invitation mailed it already when SMTP is set up (every way of inviting does).
    return Created(made.id, slug, name.strip(), email.strip(), made.url, utcnow() + timedelta(days=days),
                   mailed=mail.configured())


def relink(invitation_id: str, days: int, staff) -> Created:
    """A new link for an invitation not yet used up; the old link stops working at once.

    The expiry starts again from now. Raises NotFound, Conflict (revoked, or its attempt has ended).
    """
    from worksample.workspace.invitations import hash_invite, invite_url

    token = secrets.token_urlsafe(24)
    with session_scope() as db:
        inv = db.get(Invitation, invitation_id)
        if inv is None:
            raise NotFound(f"no invitation {invitation_id}")
        status = db.scalar(select(Attempt.status).where(Attempt.invitation_id == invitation_id))
        if inv.revoked_at is not None:
            raise Conflict(f"invitation {invitation_id} was revoked: invite the candidate again instead")
        if status is not None and status is not AttemptStatus.running:
            raise Conflict(f"invitation {invitation_id}: its attempt has ended ({status.value}); no new link")
        inv.token_hash = hash_invite(token)
        inv.expires_at = utcnow() + timedelta(days=days)
        created = Created(inv.id, inv.task.slug, inv.candidate_name, inv.candidate_email, invite_url(token),
                          inv.expires_at)
        title = inv.task.title
        audit.record("invitation.relink", actor=staff, target=invitation_id, db=db)
    return _mail([created], {created.task: title})[0]


def _mail(created: list[Created], titles: dict[str, str]) -> list[Created]:
    if not mail.configured() or not created:
        return created
    invites = [mail.Invite(c.name, c.email, titles.get(c.task, c.task), c.url, c.expires_at.strftime("%Y-%m-%d"))
               for c in created]
    try:
        failed = set(mail.send_invites(invites))
    except mail.MailError as exc:  # the invitations exist; the page shows the links to copy instead
        log.warning("invitation mail not sent: %s", exc)
        return created
    return [Created(**{**c.__dict__, "mailed": c.email not in failed}) for c in created]


def _emit_created(created: list[Created]) -> None:
    from worksample.webhooks import events

    for c in created:
        events.invitation_created(c.id)
