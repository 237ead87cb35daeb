"""Rubric reviews (one per reviewer and submission, updatable) and admin decisions.

A review is checked whole before anything is written: every rubric id of the
task present, no unknown id, points a number in 0..max, a known
recommendation, a bounded comment. Each problem names its field, as FastAPI's
own validation errors do (`loc`, `msg`), and nothing is stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from worksample.db import Submission, Task, session_scope
from worksample.db.models import Decision, DecisionKind, Recommendation, Review, User, utcnow
from worksample.errors import WorksampleError
from worksample.review.viewer import Viewer

COMMENT_CAP = 20_000
NOTE_CAP = 5_000


class ReviewInvalid(WorksampleError):
    """A review or decision that cannot be stored; `errors` lists `{loc, msg, type}` per bad field."""

    def __init__(self, errors: list[dict]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors))


class SubmissionMissing(WorksampleError):
    """No submission with that id."""


class ReviewsHidden(WorksampleError):
    """A reviewer asked for the others' reviews before submitting their own."""


def _error(loc: list, msg: str, kind: str = "value_error") -> dict:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def check_review(rubric: list[dict], scores, recommendation, comment) -> tuple[dict[str, float], list[dict]]:
    """The clean scores and the list of field errors (empty when the review can be stored)."""
    errors: list[dict] = []
    if not isinstance(scores, dict):
        return {}, [_error(["scores"], "must be an object {rubric_id: points}", "type_error")]
    maxima = {item["id"]: float(item["points"]) for item in rubric}
    unknown = sorted(str(k) for k in scores if k not in maxima)
    for key in unknown:
        errors.append(_error(["scores", key], f"unknown rubric id (this task's: {', '.join(maxima) or 'none'})"))
    clean: dict[str, float] = {}
    for rid, top in maxima.items():
        if rid not in scores:
            errors.append(_error(["scores", rid], "missing: every rubric item needs points", "missing"))
            continue
        points = _number(scores[rid])
        if points is None or not 0 <= points <= top:
            errors.append(_error(["scores", rid], f"points must be a number from 0 to {top:g}"))
            continue
        clean[rid] = points
    if recommendation not in Recommendation.__members__:
        errors.append(_error(["recommendation"], "must be one of " + ", ".join(Recommendation.__members__)))
    if not isinstance(comment, str) or len(comment) > COMMENT_CAP:
        errors.append(_error(["comment"], f"must be text of at most {COMMENT_CAP} characters"))
    return clean, errors


def _task_of(db, submission_id: str) -> Task:
    sub = db.get(Submission, submission_id)
    if sub is None:
        raise SubmissionMissing(f"no submission {submission_id}")
    return db.get(Task, sub.task_id)


@dataclass(frozen=True)
class ReviewView:
    """A review as pages and the API show it."""

    reviewer_id: str
    reviewer: str
    scores: dict[str, float]
    points: float
    max_points: float
    recommendation: str
    comment: str
    updated_at: datetime

    def api(self) -> dict:
        """The JSON form."""
        return {"reviewer": self.reviewer, "scores": self.scores, "points": self.points,
                "max_points": self.max_points, "recommendation": self.recommendation, "comment": self.comment,
                "updated_at": self.updated_at.isoformat()}


def _view(review: Review, reviewer_name: str) -> ReviewView:
    updated = review.updated_at if review.updated_at.tzinfo else review.updated_at.replace(tzinfo=timezone.utc)
    return ReviewView(review.reviewer_id, reviewer_name, dict(review.scores), review.points, review.max_points,
                      review.recommendation.value, review.comment, updated)


def save_review(viewer: Viewer, submission_id: str, scores, recommendation, comment="") -> ReviewView:
    """Create or replace the viewer's review of a submission; raises ReviewInvalid (nothing stored) or SubmissionMissing."""
    for _ in range(2):  # two saves racing to create the same review: the loser updates the winner's row
        try:
            return _save(viewer, submission_id, scores, recommendation, comment)
        except IntegrityError:
            continue
    return _save(viewer, submission_id, scores, recommendation, comment)


def _save(viewer: Viewer, submission_id: str, scores, recommendation, comment) -> ReviewView:
    with session_scope() as db:
        task = _task_of(db, submission_id)
        rubric = list((task.spec or {}).get("rubric") or [])
        clean, errors = check_review(rubric, scores, recommendation, comment)
        if errors:
            raise ReviewInvalid(errors)
        row = db.scalar(select(Review).where(Review.submission_id == submission_id,
                                             Review.reviewer_id == viewer.user_id))
        if row is None:
            row = Review(submission_id=submission_id, reviewer_id=viewer.user_id)
            db.add(row)
        row.scores, row.points = clean, sum(clean.values())
        row.max_points = float(sum(item["points"] for item in rubric))
        row.recommendation, row.comment, row.updated_at = Recommendation(recommendation), comment, utcnow()
        db.flush()
        name = db.get(User, viewer.user_id).name
        view = _view(row, name)
    from worksample.webhooks import events  # H6: webhook event, after the commit

    events.review_submitted(submission_id, viewer.user_id)
    return view


def my_review(viewer: Viewer, submission_id: str) -> ReviewView | None:
    """The viewer's own review of a submission, if any."""
    with session_scope() as db:
        row = db.scalar(select(Review).where(Review.submission_id == submission_id,
                                             Review.reviewer_id == viewer.user_id))
        return _view(row, row.reviewer.name) if row else None


def list_reviews(viewer: Viewer, submission_id: str) -> list[ReviewView]:
    """Every review of a submission, oldest first; ReviewsHidden for a reviewer who has not reviewed it yet."""
    with session_scope() as db:
        _task_of(db, submission_id)
        rows = list(db.scalars(select(Review).where(Review.submission_id == submission_id)
                               .order_by(Review.created_at, Review.id)))
        if not viewer.is_admin and not any(r.reviewer_id == viewer.user_id for r in rows):
            raise ReviewsHidden("submit your own review first: others' reviews are hidden until you do")
        names = {u.id: u.name for u in db.scalars(select(User).where(User.id.in_({r.reviewer_id for r in rows})))}
        return [_view(r, names.get(r.reviewer_id, "?")) for r in rows]


@dataclass(frozen=True)
class DecisionView:
    """The current decision on a submission."""

    decision: str
    note: str
    decided_by: str | None
    decided_at: datetime

    def api(self, submission_id: str) -> dict:
        """The JSON form."""
        return {"submission_id": submission_id, "decision": self.decision, "note": self.note,
                "decided_by": self.decided_by, "decided_at": self.decided_at.isoformat()}


def decide(viewer: Viewer, submission_id: str, decision, note="") -> DecisionView:
    """Record an admin's decision (advance, reject, hold) with a note; the newest decision is the current one."""
    errors = []
    if not isinstance(decision, str) or decision not in DecisionKind.__members__:  # JSON may send any type
        errors.append(_error(["decision"], "must be one of " + ", ".join(DecisionKind.__members__)))
    if not isinstance(note, str) or len(note) > NOTE_CAP:
        errors.append(_error(["note"], f"must be text of at most {NOTE_CAP} characters"))
    if errors:
        raise ReviewInvalid(errors)
    with session_scope() as db:
        _task_of(db, submission_id)
        row = Decision(submission_id=submission_id, decision=DecisionKind(decision), note=note,
                       decided_by=viewer.user_id, created_at=utcnow())
        db.add(row)
        db.flush()
        view = DecisionView(row.decision.value, note, db.get(User, viewer.user_id).name, row.created_at)
    from worksample.webhooks import events  # H6: webhook event, after the commit

    events.decision_made(submission_id)
    return view


def current_decision(submission_id: str) -> DecisionView | None:
    """The newest decision on a submission, or None."""
    with session_scope() as db:
        row = db.scalar(select(Decision).where(Decision.submission_id == submission_id)
                        .order_by(Decision.created_at.desc(), Decision.id.desc()).limit(1))
        if row is None:
            return None
        at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
        return DecisionView(row.decision.value, row.note, row.decider.name if row.decider else None, at)
