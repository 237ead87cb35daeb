"""Attempts: start one by invite token, find it again, keep its pod running while the clock runs.

The clock itself (start, extend, revoke, expiry) is `worksample.workspace.deadlines`. Start creates the
attempt (`open_attempt`); its pod is brought up by `worksample.workspace.starts` (at once from a warm pool pod,
else in the host's start queue), and the clock is restarted when that first pod answers, so time a candidate
spends waiting for a workspace is not taken from them (C, issues 13/17).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from worksample.catalog.spec import TaskSpec
from worksample.config import get_settings
from worksample.db import Attempt, Submission, Task, session_scope
from worksample.db.models import AttemptStatus, utcnow
from worksample.errors import DomainError
from worksample.workspace import AttemptClosed, AttemptElsewhere, AttemptNotFound
from worksample.workspace import activity, warmpool
from worksample.workspace.access import check_host
from worksample.workspace.deadlines import schedule_expiry, start_clock
from worksample.workspace.invitations import InvitationState, view_invitation
from worksample.workspace.pods import Jupyter, attempt_lock, ensure_pod, set_pod_deadline
from worksample.workspace.startqueue import StartQueue

log = logging.getLogger(__name__)
__all__ = ["AttemptClosed", "AttemptElsewhere", "AttemptNotFound", "AttemptView", "InviteRefused", "attempt_open",
           "check_host", "ensure_attempt_pod", "get_attempt", "open_attempt"]
# A warm Start answers within a second: its clock is not restarted for that (it would only reschedule the
# deadline job); a Start that waited longer for its workspace gets its clock restarted when the workspace answers.
CLOCK_SLACK_S = 1.0


class InviteRefused(DomainError):
    """The link cannot start an attempt; `state` says why (unknown, revoked, expired, used)."""

    http_status = 410

    def __init__(self, state: InvitationState) -> None:
        self.state = state
        super().__init__(f"this invitation cannot be used ({state.value})")


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
    clock_started: bool = True  # False while the attempt's first workspace is still being brought up

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
                "workspace_url": self.workspace_url, "clock_started": self.clock_started,
                "started_ts": self.started_at.timestamp()}


def open_attempt(token: str, queue: StartQueue | None = None) -> AttemptView:
    """The invitation `token`'s running attempt, or a new one (its clock provisional until its workspace
    answers). No pod is started here: `worksample.workspace.starts` brings it up.

    A new attempt claims a warm pool pod when there is one; without one, a full `queue` refuses the Start
    before anything is created (the invitation stays unused). Raises InviteRefused, StartQueueFull.
    """
    view = view_invitation(token)
    if view.state not in (InvitationState.open, InvitationState.running):
        raise InviteRefused(view.state)
    attempt_id = view.attempt_id or _start_clock_warm(view.invitation_id, view.task_id, view.time_limit_s, queue)
    return get_attempt(attempt_id)


def _start_clock_warm(invitation_id: str, task_id: str, time_limit_s: int, queue: StartQueue | None) -> str:
    """Start the clock, on the id of a warm pool pod claimed for the task when there is one (W, issue 17).

    The pod is bound to the attempt (starter files, deadline) by `ensure_attempt_pod`; a pod claimed by a
    Start that lost the race for the same invitation goes back to the pool untouched.
    """
    with session_scope() as db:
        task = db.get(Task, task_id)
        slug, version, image = task.slug, task.version, str((task.spec or {}).get("image", ""))
    claimed = warmpool.claim(slug, version, image)
    if claimed is None and queue is not None:
        queue.check_room()  # a cold start: refused now if the line is full, before any clock starts
    attempt_id, created = start_clock(invitation_id, time_limit_s, claimed.attempt_id if claimed else None)
    if claimed is not None and not created:
        warmpool.release(claimed)
    return attempt_id


def ensure_attempt_pod(attempt_id: str, cold: bool = True, queued_s: float = 0.0) -> Jupyter | None:
    """The running attempt's JupyterLab, (re)starting its pod when there is none. Raises AttemptClosed.

    `cold=False`: only a running pod or a warm pool pod claimed for the attempt; None when a cold pod is
    needed (the caller queues for a slot and calls again with `cold=True`; `queued_s` is how long it waited).
    Checked and started under the attempt's lock, so a revoke or Submit cannot leave a pod behind. When the
    attempt's first pod answers, its clock starts (`_start_clock_at_ready`).
    """
    with attempt_lock(attempt_id):
        with session_scope() as db:
            row = db.get(Attempt, attempt_id)
            if row is None:
                raise AttemptNotFound(f"no attempt {attempt_id}")
            if row.status is not AttemptStatus.running or row.deadline <= utcnow():
                raise AttemptClosed(f"attempt {attempt_id} is closed ({row.status.value})")
            check_host(attempt_id, row.host)
            task_row, deadline, first = row.invitation.task, row.deadline, not row.clock_started
        began = time.monotonic()
        jupyter, how = ensure_pod(attempt_id, _task_spec(task_row.path, task_row.version, task_row), deadline,
                                  cold=cold)
        if jupyter is None:
            return None
        with session_scope() as db:
            row = db.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
            if row.pod_id != jupyter.pod_id:
                row.pod_id = jupyter.pod_id
            row.host = row.host or get_settings().host_name  # attempts started before w17 are pinned here now
            # Not for a pod that was already running: the candidate may have used it (a crash right after
            # its first start, before this commit); its clock has run since Start.
            moved = _start_clock_at_ready(row) if first and how != "running" else 0.0
            deadline = row.deadline
        if moved:
            set_pod_deadline(attempt_id, deadline)
            schedule_expiry(attempt_id, deadline)  # the job for the provisional deadline finds nothing due
        if first:
            activity.record(attempt_id, {"kind": "workspace_ready", "cold": how == "cold", "queued_s": round(queued_s, 3),
                                         "start_s": round(time.monotonic() - began, 3), "clock_moved_s": round(moved, 3)})
    return jupyter


def _start_clock_at_ready(row: Attempt) -> float:
    """Restart the clock of `row` now that its first workspace answers: `started_at` becomes now and the
    deadline moves as much (an extension given meanwhile is kept). Seconds moved; 0 under CLOCK_SLACK_S."""
    now = utcnow()
    moved = now - row.started_at
    if moved.total_seconds() < CLOCK_SLACK_S:
        return 0.0
    row.started_at = now
    row.deadline = row.deadline + moved
    return moved.total_seconds()


@lru_cache(maxsize=64)
def _cached_spec(path: str, version: str, row_spec: str) -> TaskSpec:
    return _load_spec(path, row_spec)


def _load_spec(path: str, row_spec: str) -> TaskSpec:
    from worksample.catalog import TaskInvalid, load_task

    try:
        return load_task(path)
    except TaskInvalid:  # as catalog.sync.task_spec: the stored spec, paths resolved against the folder
        spec = TaskSpec.model_validate(json.loads(row_spec))
        spec._folder = Path(path)
        return spec


def _task_spec(path: str, version: str, row) -> TaskSpec:
    """The task's spec as `catalog.sync.task_spec` loads it, cached per folder and content version: loading
    validates the whole folder (~0.1 s), which a warm Start must not pay."""
    return _cached_spec(path, version, json.dumps(row.spec, sort_keys=True))


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
                           started_at=row.started_at, deadline=row.deadline,
                           submitted_at=row.submitted_at, submission_id=sub,
                           last_save_ts=saves[-1] if saves else None,
                           clock_started=row.clock_started)


def attempt_open(attempt_id: str) -> bool:
    """True if the attempt exists and its clock still runs (a light query: the proxy asks on every request).

    Raises AttemptElsewhere when it runs, but on another host (its sockets are not reachable from here).
    """
    with session_scope() as db:
        row = db.execute(select(Attempt.status, Attempt.deadline, Attempt.host)
                         .where(Attempt.id == attempt_id)).first()
    is_open = row is not None and row.status is AttemptStatus.running and row.deadline > utcnow()
    if is_open:
        check_host(attempt_id, row.host)
    return is_open
