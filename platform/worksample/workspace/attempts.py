"""Attempts: start the clock, find the attempt again, extend its deadline.

The database is the source of truth for the clock: `started_at` and
`deadline` are written once at Start (an extension moves `deadline`), so
nothing that happens to pods, processes or the browser ever stops it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from worksample.db import Attempt, Submission, session_scope
from worksample.db.models import AttemptStatus, utcnow
from worksample.errors import UsageError, WorksampleError
from worksample.workspace import activity
from worksample.workspace.access import attempt_api_key
from worksample.workspace.catalog_sync import task_spec
from worksample.workspace.invitations import InvitationState, view_invitation
from worksample.workspace.pods import Jupyter, ensure_pod, workspace_path

log = logging.getLogger(__name__)
MAX_EXTENSION_MIN = 240


class InviteRefused(WorksampleError):
    """The link cannot start an attempt; `state` says why (unknown, revoked, expired, used)."""

    def __init__(self, state: InvitationState) -> None:
        self.state = state
        super().__init__(f"this invitation cannot be used ({state.value})")


class AttemptNotFound(WorksampleError):
    """No attempt with that id."""


class AttemptClosed(WorksampleError):
    """The attempt was already submitted or its deadline passed."""


@dataclass(frozen=True)
class AttemptView:
    """An attempt as the workspace page and the API show it."""

    id: str
    status: AttemptStatus
    task_slug: str
    task_title: str
    started_at: datetime
    deadline: datetime
    submitted_at: datetime | None
    submission_id: str | None
    last_save_ts: float | None

    @property
    def workspace_url(self) -> str:
        """Where the candidate works."""
        return f"/w/{self.id}/"

    def public(self) -> dict:
        """The JSON the API returns for the attempt."""
        return {"attempt_id": self.id, "status": self.status.value, "task": self.task_slug,
                "started_at": self.started_at.isoformat(), "deadline": self.deadline.isoformat(),
                "deadline_ts": self.deadline.timestamp(), "server_ts": utcnow().timestamp(),
                "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
                "submission_id": self.submission_id, "last_save_ts": self.last_save_ts,
                "workspace_url": self.workspace_url}


def aware(value: datetime | None) -> datetime | None:
    """A UTC-aware datetime (SQLite hands back naive ones)."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def start_attempt(token: str) -> AttemptView:
    """Start the clock for the invitation `token`, or return its running attempt; the pod is started too.

    Raises InviteRefused, and from the sandbox DockerUnavailable, ImageMissing, PodNotReady.
    """
    view = view_invitation(token)
    if view.state not in (InvitationState.open, InvitationState.running):
        raise InviteRefused(view.state)
    attempt_id = view.attempt_id or _create_attempt(view.invitation_id, view.time_limit_s)
    if view.attempt_id is None:
        activity.record(attempt_id, {"kind": "started"})
        _schedule(attempt_id)
    attempt = get_attempt(attempt_id)
    if attempt.status is AttemptStatus.running:
        ensure_attempt_pod(attempt_id)
    return get_attempt(attempt_id)


def _create_attempt(invitation_id: str, time_limit_s: int) -> str:
    now = utcnow()
    try:
        with session_scope() as db:
            row = Attempt(invitation_id=invitation_id, status=AttemptStatus.running, started_at=now,
                          deadline=now + timedelta(seconds=time_limit_s), activity=[])
            db.add(row)
            db.flush()
            row.api_key_hash = hashlib.sha256(attempt_api_key(row.id).encode()).hexdigest()
            row.workspace_path = str(workspace_path(row.id))
            return row.id
    except IntegrityError:  # a concurrent Start won the race: one attempt per invitation
        with session_scope() as db:
            return db.scalar(select(Attempt.id).where(Attempt.invitation_id == invitation_id))


def _schedule(attempt_id: str) -> None:
    from worksample.jobs.deadlines import schedule_deadline

    schedule_deadline(attempt_id, get_attempt(attempt_id).deadline)


def ensure_attempt_pod(attempt_id: str) -> Jupyter:
    """The running attempt's JupyterLab, (re)starting its pod when there is none. Raises AttemptClosed."""
    with session_scope() as db:
        row = db.get(Attempt, attempt_id)
        if row is None:
            raise AttemptNotFound(f"no attempt {attempt_id}")
        if row.status is not AttemptStatus.running or aware(row.deadline) <= utcnow():
            raise AttemptClosed(f"attempt {attempt_id} is closed")
        task_row, deadline = row.invitation.task, aware(row.deadline)
    jupyter = ensure_pod(attempt_id, task_spec(task_row), deadline)
    with session_scope() as db:
        row = db.get(Attempt, attempt_id)
        if row.pod_id != jupyter.pod_id:
            row.pod_id = jupyter.pod_id
    return jupyter


def get_attempt(attempt_id: str) -> AttemptView:
    """The attempt `attempt_id`; raises AttemptNotFound."""
    with session_scope() as db:
        row = db.get(Attempt, attempt_id)
        if row is None:
            raise AttemptNotFound(f"no attempt {attempt_id}")
        sub = db.scalar(select(Submission.id).where(Submission.attempt_id == attempt_id))
        saves = [e["ts"] for e in (row.activity or []) if e.get("kind") == "save"]
        task = row.invitation.task
        return AttemptView(id=row.id, status=row.status, task_slug=task.slug, task_title=task.title,
                           started_at=aware(row.started_at), deadline=aware(row.deadline),
                           submitted_at=aware(row.submitted_at), submission_id=sub,
                           last_save_ts=saves[-1] if saves else None)


def attempt_open(attempt_id: str) -> bool:
    """True if the attempt exists and its clock still runs (a light query: the proxy asks on every request)."""
    with session_scope() as db:
        row = db.execute(select(Attempt.status, Attempt.deadline).where(Attempt.id == attempt_id)).first()
    return row is not None and row.status is AttemptStatus.running and aware(row.deadline) > utcnow()


def extend_deadline(attempt_id: str, minutes: int) -> AttemptView:
    """Move a running attempt's deadline `minutes` later; refused once the deadline has passed."""
    if not 1 <= minutes <= MAX_EXTENSION_MIN:
        raise UsageError(f"minutes: {minutes} must be between 1 and {MAX_EXTENSION_MIN}")
    with session_scope() as db:
        row = db.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
        if row is None:
            raise AttemptNotFound(f"no attempt {attempt_id}")
        if row.status is not AttemptStatus.running or aware(row.deadline) <= utcnow():
            raise AttemptClosed(f"attempt {attempt_id} is closed: a deadline can only be extended before it passes")
        row.deadline = aware(row.deadline) + timedelta(minutes=minutes)
    activity.record(attempt_id, {"kind": "deadline_extended", "minutes": minutes})
    _schedule(attempt_id)
    return get_attempt(attempt_id)


def running_attempt_ids(due_before: datetime | None = None) -> list[str]:
    """Ids of running attempts, only those whose deadline is at or before `due_before` when given."""
    with session_scope() as db:
        query = select(Attempt.id).where(Attempt.status == AttemptStatus.running)
        if due_before is not None:
            query = query.where(Attempt.deadline <= due_before)
        return list(db.scalars(query))

