"""Submission states and reports in the database: claim, heartbeat, finish, reconcile, re-grade.

The database is the source of truth; Redis only carries jobs. A grading job
first *claims* its submission (queued → running, `tries` + 1, atomically); the
`tries` value it got is its fencing token: its report is stored only if the
submission is still running under that same token. So a duplicate job (the
reconciler re-enqueued, RQ retried) either finds nothing to claim or finds its
result discarded: one report per grading, whatever retries happen.

A running claim is kept alive by a heartbeat (`updated_at`); the reconciler
returns submissions to the queue when a heartbeat went stale (the worker was
killed) or when a queued row has waited too long (the job was lost with Redis).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from worksample.db import session_scope
from worksample.db.models import Report, Submission, SubmissionStatus, Task, utcnow
from worksample.periodic import Periodic

log = logging.getLogger(__name__)

MAX_TRIES = 3  # grading attempts per (re-)grade, counting infrastructure retries
HEARTBEAT_S = 10.0
STALE_RUNNING_S = 60.0  # no heartbeat for this long: the worker is gone
STALE_QUEUED_S = 30.0  # queued this long with no worker taking it: the job may be lost


@dataclass(frozen=True)
class Claim:
    """A job's hold on a submission: its id, the fencing token and where its files are."""

    submission_id: str
    token: int
    artifacts_path: Path
    task_path: Path
    task_slug: str
    queue_wait_s: float = 0.0  # from the submission row's creation to this claim


def claim(submission_id: str) -> Claim | None:
    """Take a queued submission for grading (queued → running); None if it is not queued."""
    with session_scope() as db:
        result = db.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status == SubmissionStatus.queued)
            .values(status=SubmissionStatus.running, tries=Submission.tries + 1, updated_at=utcnow(), error=None)
        )
        if result.rowcount != 1:
            return None
        sub = db.get(Submission, submission_id)
        task = db.get(Task, sub.task_id)
        waited = (utcnow() - sub.created_at).total_seconds()
        return Claim(sub.id, sub.tries, Path(sub.artifacts_path), Path(task.path), task.slug, round(waited, 3))


def heartbeat(claim_: Claim) -> bool:
    """Refresh the claim's `updated_at`; False if the claim was lost (re-queued by the reconciler)."""
    with session_scope() as db:
        result = db.execute(
            update(Submission)
            .where(Submission.id == claim_.submission_id, Submission.status == SubmissionStatus.running,
                   Submission.tries == claim_.token)
            .values(updated_at=utcnow())
        )
        return result.rowcount == 1


class Heartbeat(Periodic):
    """A background thread calling `heartbeat` every HEARTBEAT_S while a grading runs."""

    def __init__(self, claim_: Claim, every: float = HEARTBEAT_S) -> None:
        # a missed beat is retried next time; staleness needs several
        super().__init__(lambda: heartbeat(claim_), every, "grading-heartbeat",
                         failed=lambda: log.exception("grading heartbeat failed"), join_s=5)


def finish(claim_: Claim, body: dict, status: SubmissionStatus = SubmissionStatus.graded) -> bool:
    """Store the report (next version) and set the final status, if the claim still holds.

    Returns False (and stores nothing) when another job has taken over.
    """
    with session_scope() as db:
        result = db.execute(
            update(Submission)
            .where(Submission.id == claim_.submission_id, Submission.status == SubmissionStatus.running,
                   Submission.tries == claim_.token)
            .values(status=status, updated_at=utcnow(), error=body.get("error"))
        )
        if result.rowcount != 1:
            return False
        version = (db.scalar(select(func.max(Report.version)).where(Report.submission_id == claim_.submission_id)) or 0) + 1
        db.add(Report(submission_id=claim_.submission_id, version=version, score=float(body["score"]),
                      max_score=float(body["max_score"]), passed=bool(body["passed"]), body={**body, "version": version}))
        return True


def release(claim_: Claim, message: str) -> None:
    """Give a claim back to the queue after an infrastructure fault (running → queued)."""
    with session_scope() as db:
        db.execute(
            update(Submission)
            .where(Submission.id == claim_.submission_id, Submission.status == SubmissionStatus.running,
                   Submission.tries == claim_.token)
            .values(status=SubmissionStatus.queued, updated_at=utcnow(), error=message[:2000])
        )


def stale_submissions(now: datetime | None = None, running_after: float = STALE_RUNNING_S,
                      queued_after: float = STALE_QUEUED_S, skip: set[str] = frozenset()) -> list[str]:
    """Ids of submissions to (re-)enqueue: running with a stale heartbeat, or queued too long.

    Stale running rows go back to queued here, so the next job can claim them.
    Queued rows in `skip` (their job is still in the queue) are left alone.
    """
    now = now or utcnow()
    ids = []
    with session_scope() as db:
        for sub in db.scalars(select(Submission).where(
                Submission.status.in_([SubmissionStatus.queued, SubmissionStatus.running]))):
            age = (now - sub.updated_at).total_seconds()
            if sub.status is SubmissionStatus.running and age > running_after:
                sub.status = SubmissionStatus.queued
                sub.updated_at = now
                sub.error = "re-queued: the grading worker stopped answering"
                ids.append(sub.id)
            elif sub.status is SubmissionStatus.queued and age > queued_after and sub.id not in skip:
                sub.updated_at = now  # one re-enqueue per queued_after, not one per pass
                ids.append(sub.id)
    return ids


def request_regrade(submission_id: str) -> bool:
    """Put a finished submission back in the queue for a new report version; False if not finished."""
    with session_scope() as db:
        result = db.execute(
            update(Submission)
            .where(Submission.id == submission_id,
                   Submission.status.in_([SubmissionStatus.graded, SubmissionStatus.error]))
            .values(status=SubmissionStatus.queued, tries=0, updated_at=utcnow(), error=None)
        )
        return result.rowcount == 1


def latest_report(submission_id: str, version: int | None = None) -> Report | None:
    """The newest report of a submission (or the given version); None if there is none."""
    with session_scope() as db:
        query = select(Report).where(Report.submission_id == submission_id)
        if version is not None:
            query = query.where(Report.version == version)
        return db.scalar(query.order_by(Report.version.desc()).limit(1))


def report_versions(submission_id: str) -> list[int]:
    """Every report version of a submission, oldest first."""
    with session_scope() as db:
        return list(db.scalars(select(Report.version).where(Report.submission_id == submission_id)
                               .order_by(Report.version)))


def get_submission(submission_id: str) -> Submission | None:
    """The submission row, or None."""
    with session_scope() as db:
        return db.get(Submission, submission_id)


def register_task(folder: Path) -> Task:
    """The task row for a task folder, imported or refreshed from disk (for local grading and `task test`)."""
    from worksample.catalog.sync import sync_folder

    return sync_folder(folder)


def grading_limits(submission_id: str) -> tuple[float, int]:
    """(grading.timeout in seconds, runs per grading: 2 with grading.rerun, else 1) of the submission's task as
    stored in its row, read once; NotFound if no submission."""
    from worksample.catalog.spec import parse_duration
    from worksample.errors import NotFound

    with session_scope() as db:
        sub = db.get(Submission, submission_id)
        if sub is None:
            raise NotFound(f"no submission {submission_id}")
        grading = (db.get(Task, sub.task_id).spec or {}).get("grading") or {}
    return parse_duration(grading.get("timeout", "15m")).total_seconds(), 2 if grading.get("rerun") is True else 1


def create_submission(task: Task, artifacts: Path, submission_id: str | None = None) -> str:
    """A queued submission row for files already on disk (the caller enqueues it)."""
    with session_scope() as db:
        sub = Submission(task_id=task.id, artifacts_path=str(artifacts), status=SubmissionStatus.queued)
        if submission_id:
            sub.id = submission_id
        db.add(sub)
        db.flush()
        return sub.id


def age_of(ts: datetime) -> timedelta:
    """How long ago `ts` was."""
    return utcnow() - ts
