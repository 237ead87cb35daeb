"""The attempt clock, in one place: start it, extend it, revoke the attempt, and expire it at the deadline.

The database is the source of truth: `started_at` and `deadline` are written
once at Start (an extension moves `deadline`), so nothing that happens to pods,
processes or the browser stops the clock. Three things act on the deadline:

- a job scheduled in RQ for the deadline itself (by dotted path, run by the
  worker's scheduler), replaced when the deadline moves; one that fires early
  finds nothing due;
- the sweep (`expire_due_attempts`, run by the API every few seconds and at
  start-up), so a deadline that passed while Redis or every process was down
  is handled when they return;
- the reaper, which removes a pod past its own deadline. Docker labels cannot
  change after creation, so an extension writes the pod's new deadline into the
  pod's host dir (the sandbox reads it before the label): an extended attempt's
  pod is never reaped early.

An extend or a revoke may be answered by another API host, which can change the
database but not reach the pod (issue 17). So every host brings its own attempt
pods in line with the database (`align_attempt_pods`): its API's sweep does it
every few seconds, and its workers' reaper does it before each pass
(`reap_pods`), so an attempt's pod is never removed on a deadline the database
has moved, and a revoked attempt's pod stops within the sweep interval.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from worksample.config import get_settings
from worksample.db import Attempt, Invitation, session_scope
from worksample.db.models import AttemptStatus, utcnow
from worksample.errors import InfrastructureError, RedisUnavailable, UsageError
from worksample.workspace import AttemptClosed, AttemptNotFound, activity
from worksample.workspace.pods import (LABEL_ATTEMPT, attempt_lock, reap_after, set_pod_deadline, stop_pod,
                                       unmount_workspace)
from worksample.workspace.submit import submit_attempt

log = logging.getLogger(__name__)

MAX_EXTENSION_MIN = 240
SWEEP_EVERY_S = 5.0
EXPIRE_JOB = "worksample.workspace.deadlines.expire_attempt"
EXPIRE_JOB_TIMEOUT = 600  # a snapshot of a full workspace, with room to spare


def start_clock(invitation_id: str, time_limit_s: int, attempt_id: str | None = None) -> tuple[str, bool]:
    """Create the attempt of an invitation, its clock starting now; (attempt id, True if this call created it).

    One attempt per invitation: a concurrent Start gets the same attempt. `attempt_id`: the id reserved
    by the warm pool pod Start claimed (W, issue 17). The attempt is pinned to this host (settings host_name).
    """
    now = utcnow()
    try:
        with session_scope() as db:
            row = Attempt(invitation_id=invitation_id, status=AttemptStatus.running, started_at=now,
                          deadline=now + timedelta(seconds=time_limit_s), activity=[],
                          host=get_settings().host_name, **({"id": attempt_id} if attempt_id else {}))
            db.add(row)
            db.flush()
            attempt_id, deadline = row.id, row.deadline
    except IntegrityError:  # a concurrent Start won the race
        with session_scope() as db:
            return db.scalar(select(Attempt.id).where(Attempt.invitation_id == invitation_id)), False
    activity.record(attempt_id, {"kind": "started"})
    from worksample.webhooks import events  # H6: webhook event

    events.attempt_started(attempt_id)
    schedule_expiry(attempt_id, deadline)
    return attempt_id, True


def schedule_expiry(attempt_id: str, deadline: datetime) -> str | None:
    """Schedule `expire_attempt(attempt_id)` in RQ at `deadline`; the job id, or None if Redis is down."""
    from worksample.jobs import schedule_at

    try:
        return schedule_at(deadline, EXPIRE_JOB, attempt_id, timeout=EXPIRE_JOB_TIMEOUT,
                           job_id=f"deadline-{attempt_id}-{int(deadline.timestamp())}")
    except RedisUnavailable as exc:
        log.warning("attempt %s: deadline not scheduled in Redis (%s); the sweep will submit it", attempt_id, exc)
        return None


def _closed_reason(row: Attempt) -> str | None:
    """Why the attempt can no longer be changed, or None while its clock runs."""
    if row.status is not AttemptStatus.running:
        return f"attempt {row.id} has already ended ({row.status.value})"
    if row.deadline <= utcnow():
        return f"attempt {row.id} has already ended (its deadline passed at {row.deadline.isoformat()})"
    return None


def extend_attempt(attempt_id: str, minutes: int) -> datetime:
    """Move a running attempt's deadline `minutes` later, in the database and for its pod; the new deadline.

    Raises UsageError (minutes out of range), AttemptNotFound, AttemptClosed (ended: 409 with the reason).
    """
    if not 1 <= minutes <= MAX_EXTENSION_MIN:
        raise UsageError(f"minutes: {minutes} must be between 1 and {MAX_EXTENSION_MIN}")
    with attempt_lock(attempt_id):  # a pod started meanwhile gets the new deadline too
        with session_scope() as db:
            row = db.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
            if row is None:
                raise AttemptNotFound(f"no attempt {attempt_id}")
            reason = _closed_reason(row)
            if reason:
                raise AttemptClosed(f"{reason}: it cannot be extended")
            row.deadline = row.deadline + timedelta(minutes=minutes)
            deadline, host = row.deadline, row.host
        if _on_this_host(attempt_id, host):
            _move_pod_deadline(attempt_id, deadline)
    activity.record(attempt_id, {"kind": "deadline_extended", "minutes": minutes})
    schedule_expiry(attempt_id, deadline)
    return deadline


def _on_this_host(attempt_id: str, host: str | None) -> bool:
    """True if the attempt's pod runs here; else log that its own host follows the database (issue 17)."""
    if host is None or host == get_settings().host_name:
        return True
    log.info("attempt %s runs on host %s: its pod there follows the database within the sweep interval",
             attempt_id, host)
    return False


def _move_pod_deadline(attempt_id: str, deadline: datetime) -> None:
    try:
        set_pod_deadline(attempt_id, deadline)
    except InfrastructureError as exc:
        # The database moved; the pod (if any) cannot be reached now. A pod started later reads the
        # new deadline from the database, and the reaper cannot run without the engine either.
        log.warning("attempt %s: pod deadline not moved (%s)", attempt_id, exc)


def revoke_invitation(invitation_id: str) -> dict:
    """Withdraw an invitation; a running attempt stops at once (pod removed, workspace kept, no submission).

    Returns `{"id", "revoked": True, "attempt_id", "attempt_status"}`. Revoking twice is harmless.
    Raises AttemptNotFound (no such invitation), AttemptClosed (its attempt already ended: 409).
    """
    with session_scope() as db:
        inv = db.get(Invitation, invitation_id)
        if inv is None:
            raise AttemptNotFound(f"no invitation {invitation_id}")
        attempt_id = db.scalar(select(Attempt.id).where(Attempt.invitation_id == invitation_id))
        if attempt_id is None:
            inv.revoked_at = inv.revoked_at or utcnow()
            return {"id": invitation_id, "revoked": True, "attempt_id": None, "attempt_status": None}
    status = revoke_attempt(attempt_id)
    with session_scope() as db:
        inv = db.get(Invitation, invitation_id)
        inv.revoked_at = inv.revoked_at or utcnow()
    return {"id": invitation_id, "revoked": True, "attempt_id": attempt_id, "attempt_status": status.value}


def revoke_attempt(attempt_id: str) -> AttemptStatus:
    """Stop a running attempt now: marked revoked, pod removed, workspace unmounted but kept; no submission.

    Returns the attempt's status (`revoked`). Raises AttemptNotFound, AttemptClosed if it had already
    ended otherwise (submitted or expired).
    """
    with attempt_lock(attempt_id):  # no Submit, Start or extension runs meanwhile
        with session_scope() as db:
            row = db.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
            if row is None:
                raise AttemptNotFound(f"no attempt {attempt_id}")
            if row.status is AttemptStatus.revoked:
                return row.status
            if row.status is not AttemptStatus.running:
                raise AttemptClosed(f"attempt {attempt_id} has already ended ({row.status.value}): it cannot be revoked")
            row.status = AttemptStatus.revoked  # the proxy and Start refuse from this commit on
            row.pod_id = None
            host = row.host
        if _on_this_host(attempt_id, host):
            stop_pod(attempt_id)
            unmount_workspace(attempt_id)
    activity.record(attempt_id, {"kind": "revoked"})
    return AttemptStatus.revoked


def expire_attempt(attempt_id: str) -> str | None:
    """Job body: submit the attempt if its deadline has passed and it still runs; the submission id or None.

    An attempt pinned to another host is left to that host's sweep (its workspace is there): a worker
    here would hand in an empty snapshot (W, issue 17).
    """
    with session_scope() as db:
        row = db.get(Attempt, attempt_id)
        if row is None or row.status is not AttemptStatus.running or row.deadline > utcnow():
            return None  # handed in, revoked, or extended (a later job is scheduled)
        host = row.host
    if host is not None and host != get_settings().host_name:
        log.info("attempt %s runs on host %s: its deadline is submitted there", attempt_id, host)
        return None
    return submit_attempt(attempt_id, reason="deadline")


def running_attempt_ids(due_before: datetime | None = None, this_host: bool = False) -> list[str]:
    """Ids of running attempts, only those whose deadline is at or before `due_before` when given, and only
    those pinned to this host (or to none, from before w17) when `this_host`."""
    with session_scope() as db:
        query = select(Attempt.id).where(Attempt.status == AttemptStatus.running)
        if due_before is not None:
            query = query.where(Attempt.deadline <= due_before)
        if this_host:
            query = query.where(or_(Attempt.host.is_(None), Attempt.host == get_settings().host_name))
        return list(db.scalars(query))


def expire_due_attempts() -> list[str]:
    """Submit every running attempt of this host whose deadline has passed; their ids. One failure does not
    stop the rest. (Each API host sweeps its own attempts: their workspaces are on it.)"""
    done = []
    for attempt_id in running_attempt_ids(due_before=utcnow(), this_host=True):
        try:
            if expire_attempt(attempt_id):
                done.append(attempt_id)
        except Exception:  # one broken attempt must not stop the others; the next sweep retries
            log.exception("attempt %s: deadline submit failed", attempt_id)
    return done


def align_attempt_pods() -> dict[str, list[str]]:
    """Bring this host's attempt pods in line with the database; `{"moved": [...], "stopped": [...]}` (attempt ids).

    A pod whose attempt runs with a later deadline than the pod's gets the attempt's reaper deadline (an
    extension answered by another host); a pod whose attempt has ended (revoked elsewhere, or handed in while
    the engine did not answer) is stopped and its workspace unmounted (the image, and so the work, stays).
    Pods with no attempt row (warm pool pods: a reserved id) are left alone. Raises on an engine or database
    error, before changing anything it has not decided on.
    """
    from worksample.sandbox import default_backend

    pods: dict[str, list] = {}
    for pod in default_backend().list_pods():
        if LABEL_ATTEMPT in pod.labels:
            pods.setdefault(pod.labels[LABEL_ATTEMPT], []).append(pod)
    if not pods:
        return {"moved": [], "stopped": []}
    with session_scope() as db:
        rows = db.execute(select(Attempt.id, Attempt.status, Attempt.deadline).where(Attempt.id.in_(list(pods)))).all()
    moved, stopped = [], []
    for attempt_id, status, deadline in rows:
        if status is not AttemptStatus.running:
            if _stop_ended_pod(attempt_id):
                stopped.append(attempt_id)
        elif any(pod.deadline is None or pod.deadline < reap_after(deadline) for pod in pods[attempt_id]):
            if _follow_deadline(attempt_id):
                moved.append(attempt_id)
    return {"moved": moved, "stopped": stopped}


def _stop_ended_pod(attempt_id: str) -> bool:
    """Stop the pods of an attempt that has ended, under its lock (a Submit here finishes first); True if any."""
    from worksample.sandbox import default_backend

    with attempt_lock(attempt_id):
        with session_scope() as db:
            status = db.scalar(select(Attempt.status).where(Attempt.id == attempt_id))
        if status is AttemptStatus.running or not list(default_backend().list_pods({LABEL_ATTEMPT: attempt_id})):
            return False
        stop_pod(attempt_id)
        unmount_workspace(attempt_id)
    log.info("attempt %s has ended (%s): its pod on this host stopped", attempt_id, status.value)
    return True


def _follow_deadline(attempt_id: str) -> bool:
    """Give the running attempt's pods its deadline from the database, under its lock; True if it still runs."""
    with attempt_lock(attempt_id):  # an extension here, or a new pod, is not overtaken by a stale read
        with session_scope() as db:
            row = db.execute(select(Attempt.status, Attempt.deadline).where(Attempt.id == attempt_id)).first()
        if row is None or row.status is not AttemptStatus.running:
            return False
        set_pod_deadline(attempt_id, row.deadline)
    log.info("attempt %s: its pod follows the deadline %s from the database", attempt_id, row.deadline.isoformat())
    return True


def reap_pods(now: float | None = None) -> list:
    """One pass of a host's reaper: attempt pods aligned with the database, then `sandbox.reap`; what it removed.

    If the engine or the database cannot be read, this raises before anything is removed: an attempt's pod
    must not be reaped on a deadline the database has moved (the next pass retries).
    """
    from worksample.sandbox import reap

    align_attempt_pods()
    return reap(now=now)


_skipped: dict[str, str] = {}  # sweep step → the infrastructure error last logged for it (again when it changes)


def sweep_once() -> None:
    """One pass of an API host's sweep: hand in what is due, then align this host's attempt pods with the database.

    Each step fails alone (logged; the next pass retries): an engine that does not answer must not stop
    deadlines being handed in.
    """
    for name, step in (("deadline submit", expire_due_attempts), ("attempt pods", align_attempt_pods)):
        try:
            step()
            _skipped.pop(name, None)
        except InfrastructureError as exc:  # e.g. the engine restarting: one line when it starts, not every 5 s
            if _skipped.get(name) != str(exc):
                log.warning("deadline sweep: %s skipped until the engine answers: %s", name, exc)
            _skipped[name] = str(exc)
        except Exception:  # the sweep must outlive a flaky engine or database
            log.exception("deadline sweep: %s failed", name)


async def sweep_forever(every: float = SWEEP_EVERY_S) -> None:
    """Run `sweep_once` now and every `every` seconds, in a thread, until cancelled (the API's lifespan)."""
    from starlette.concurrency import run_in_threadpool

    while True:
        await run_in_threadpool(sweep_once)
        await asyncio.sleep(every)
