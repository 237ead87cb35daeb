"""The platform's events, each built from the database by id: one-line calls where things happen.

    events.attempt_started(attempt_id)           # after the attempt row is committed

Every function returns nothing and never raises: a webhook problem must not
fail the action that emitted it (errors are logged). Payloads are thin: ids,
task slug, status and scores; candidate name and e-mail only on
invitation.created (the applicant-tracking system needs to match its record).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from worksample.db import session_scope
from worksample.db.models import Attempt, Invitation, Report, Submission, Webhook

log = logging.getLogger(__name__)


def _wanted(event: str) -> bool:
    # Cheap check first: most platforms have no webhook, and then no payload is built.
    with session_scope() as db:
        return any(event in (events or []) for events in db.scalars(select(Webhook.events)
                                                                      .where(Webhook.deleted_at.is_(None))))


def _emit(event: str, build) -> None:
    """Build the payload (`build(db)`, None when the row is gone) and emit it, if anyone subscribed."""
    from worksample.webhooks import emit

    try:
        if _wanted(event):
            with session_scope() as db:
                data = build(db)
            if data is not None:
                emit(event, data)
    except Exception:  # never fail the caller's action over a webhook
        log.exception("webhooks: event %s not emitted", event)


def _iso(ts) -> str | None:
    return ts.isoformat() if ts is not None else None


def _submission_ids(db, sub: Submission) -> dict:
    """What every submission event starts with: its id, its invitation's (None for a local grading), the task."""
    invitation_id = db.scalar(select(Attempt.invitation_id).where(Attempt.id == sub.attempt_id)) \
        if sub.attempt_id else None
    return {"submission_id": sub.id, "invitation_id": invitation_id, "task": sub.task.slug}


def invitation_created(invitation_id: str) -> None:
    """Emit `invitation.created`."""
    def build(db):
        inv = db.get(Invitation, invitation_id)
        return None if inv is None else {
            "invitation_id": inv.id, "task": inv.task.slug,
            "candidate": {"name": inv.candidate_name, "email": inv.candidate_email},
            "expires_at": _iso(inv.expires_at)}
    _emit("invitation.created", build)


def attempt_started(attempt_id: str) -> None:
    """Emit `attempt.started`."""
    def build(db):
        row = db.get(Attempt, attempt_id)
        return None if row is None else {
            "attempt_id": row.id, "invitation_id": row.invitation_id, "task": row.invitation.task.slug,
            "started_at": _iso(row.started_at), "deadline": _iso(row.deadline)}
    _emit("attempt.started", build)


def submission_created(submission_id: str, reason: str | None = None) -> None:
    """Emit `submission.created` (`reason`: candidate or deadline)."""
    def build(db):
        sub = db.get(Submission, submission_id)
        if sub is None:
            return None
        return {**_submission_ids(db, sub), "attempt_id": sub.attempt_id, "reason": reason,
                "created_at": _iso(sub.created_at)}
    _emit("submission.created", build)


def submission_graded(submission_id: str) -> None:
    """Emit `submission.graded` with the newest report's score (status `graded` or `error`)."""
    def build(db):
        sub = db.get(Submission, submission_id)
        if sub is None:
            return None
        report = db.scalar(select(Report).where(Report.submission_id == submission_id)
                           .order_by(Report.version.desc()).limit(1))
        return {**_submission_ids(db, sub), "status": getattr(sub.status, "value", sub.status),
                "score": report.score if report else None, "max_score": report.max_score if report else None,
                "passed": report.passed if report else None, "report_version": report.version if report else None}
    _emit("submission.graded", build)


def review_submitted(submission_id: str, reviewer_id: str) -> None:
    """Emit `review.submitted` (a reviewer created or updated their review): ids, recommendation, points."""
    def build(db):
        from worksample.db.models import Review

        row = db.scalar(select(Review).where(Review.submission_id == submission_id,
                                             Review.reviewer_id == reviewer_id))
        sub = db.get(Submission, submission_id)
        if row is None or sub is None:
            return None
        return {**_submission_ids(db, sub), "reviewer_id": reviewer_id,
                "recommendation": getattr(row.recommendation, "value", None), "points": row.points,
                "max_points": row.max_points, "updated_at": _iso(row.updated_at)}
    _emit("review.submitted", build)


def decision_made(submission_id: str) -> None:
    """Emit `decision.made` with the current (newest) decision; the note stays in the platform."""
    def build(db):
        from worksample.db.models import Decision

        row = db.scalar(select(Decision).where(Decision.submission_id == submission_id)
                        .order_by(Decision.created_at.desc(), Decision.id.desc()).limit(1))
        sub = db.get(Submission, submission_id)
        if row is None or sub is None:
            return None
        return {**_submission_ids(db, sub), "decision": row.decision.value, "decided_by": row.decided_by,
                "decided_at": _iso(row.created_at)}
    _emit("decision.made", build)
