"""The candidate tables: one row per invitation, with its stage, score, reviews and decision.

Built in a fixed number of queries whatever the number of candidates (tasks,
invitation rows with their attempt, submission and newest report, reviews,
decisions), so the dashboard, the candidates page and the CSV cost the same
four or five round trips for ten candidates or ten thousand.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from worksample.db import Attempt, Invitation, Report, Submission, Task
from worksample.db.models import AttemptStatus, Decision, Review, utcnow
from worksample.review.viewer import Viewer


class Stage(str, enum.Enum):
    """How far an invitation got, in funnel order."""

    revoked = "revoked"
    expired = "expired"
    invited = "invited"
    started = "started"
    submitted = "submitted"
    graded = "graded"
    reviewed = "reviewed"
    decided = "decided"


FUNNEL = (Stage.invited, Stage.started, Stage.submitted, Stage.graded, Stage.reviewed, Stage.decided)
_ORDER = {stage: i for i, stage in enumerate(Stage)}


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


@dataclass
class TaskInfo:
    """A catalog task as the review pages need it."""

    id: str
    slug: str
    title: str
    rubric: list[dict]
    time_limit: str | None

    @property
    def rubric_max(self) -> float:
        """The most rubric points a review can give."""
        return float(sum(item.get("points", 0) for item in self.rubric))


@dataclass
class CandidateRow:
    """One invitation as a viewer may see it (names and others' reviews already hidden where they must be)."""

    invitation_id: str
    task_slug: str
    name: str = field(repr=False)
    raw_email: str = field(repr=False)
    viewer: Viewer = field(repr=False)
    stage: Stage
    invited_at: datetime | None  # not loaded for tables (rows come in invitation order)
    attempt_id: str | None = None
    submission_id: str | None = None
    submission_status: str | None = None
    score: float | None = None
    max_score: float | None = None
    passed: bool | None = None
    review_count: int = 0
    rubric_mean: float | None = None
    rubric_max: float | None = None
    recommendations: dict[str, int] | None = None
    decision: str | None = None
    submitted_at: datetime | None = None
    time_used_s: float | None = None
    cost_usd: float | None = None
    reviewed_by_me: bool = False
    others_hidden: bool = False
    reviewers: set[str] = field(default_factory=set, repr=False)

    @property
    def candidate(self) -> str:
        """The candidate as this viewer may see them: name, or pseudonym under blind review (computed when shown)."""
        return self.viewer.candidate(self.invitation_id, self.name)

    @property
    def email(self) -> str | None:
        """The candidate's email, or None under blind review."""
        return self.viewer.email(self.raw_email)

    def api(self) -> dict:
        """The row as the JSON API and the CSV give it (DESIGN §11 field names)."""
        return {"id": self.submission_id, "invitation_id": self.invitation_id, "candidate": self.candidate,
                "email": self.email, "stage": self.stage.value, "score": self.score, "max_score": self.max_score,
                "passed": self.passed, "review_count": self.review_count, "rubric_mean": self.rubric_mean,
                "rubric_max": self.rubric_max, "recommendations": self.recommendations, "decision": self.decision,
                "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
                "time_used_s": self.time_used_s, "cost_usd": self.cost_usd}


def load_tasks(db: Session, slug: str | None = None) -> list[TaskInfo]:
    """The catalog's tasks (or the one `slug`), by title. Query 1."""
    query = select(Task.id, Task.slug, Task.title, Task.spec).order_by(Task.title)
    if slug is not None:
        query = query.where(Task.slug == slug)
    return [TaskInfo(tid, s, title, list((spec or {}).get("rubric") or []), (spec or {}).get("time_limit"))
            for tid, s, title, spec in db.execute(query)]


def _invitation_rows(db: Session, task_ids: list[str], invitation_id: str | None = None):
    """Invitations with attempt, submission and newest report (score columns only), oldest first. Query 2.

    Few datetime columns on purpose: each costs a conversion per row, and the table can hold thousands.
    """
    newest = (select(Report.submission_id, func.max(Report.version).label("version"))
              .group_by(Report.submission_id).subquery())
    now = utcnow()
    query = (select(Invitation.id, Invitation.task_id, Invitation.candidate_name, Invitation.candidate_email,
                    Invitation.revoked_at.is_not(None), and_(Invitation.expires_at.is_not(None),
                                                             Invitation.expires_at <= now),
                    Attempt.id, Attempt.status, Attempt.started_at,
                    func.coalesce(Attempt.submitted_at, Submission.created_at).label("submitted_at"),
                    Attempt.deadline, Submission.id, Submission.status, Report.id, Report.score,
                    Report.max_score, Report.passed)
             .select_from(Invitation)
             .outerjoin(Attempt, Attempt.invitation_id == Invitation.id)
             .outerjoin(Submission, Submission.attempt_id == Attempt.id)
             .outerjoin(newest, newest.c.submission_id == Submission.id)
             .outerjoin(Report, and_(Report.submission_id == newest.c.submission_id,
                                     Report.version == newest.c.version))
             .where(Invitation.task_id.in_(task_ids))
             .order_by(Invitation.created_at, Invitation.id))
    if invitation_id is not None:
        query = query.where(Invitation.id == invitation_id)
    return db.execute(query).all()


# A report never changes once stored, so its LLM cost is read from its JSON body once per process
# (extracting it from every body on every page would parse megabytes of JSON per request).
_COSTS: dict[str, float | None] = {}
_COSTS_MAX = 200_000
_COST_CHUNK = 500


def _costs(db: Session, report_ids: list[str]) -> dict[str, float | None]:
    """The graded run's LLM cost per report id; one extra query per 500 reports not seen before."""
    missing = [rid for rid in report_ids if rid not in _COSTS]
    if len(_COSTS) + len(missing) > _COSTS_MAX:
        _COSTS.clear()
    cost = Report.body["llm"]["cost_usd"].as_float()
    for i in range(0, len(missing), _COST_CHUNK):
        chunk = missing[i:i + _COST_CHUNK]
        found = dict(db.execute(select(Report.id, cost).where(Report.id.in_(chunk))).all())
        _COSTS.update({rid: found.get(rid) for rid in chunk})
    return {rid: _COSTS.get(rid) for rid in report_ids}


def _reviews(db: Session, task_ids: list[str]) -> dict[str, list[tuple]]:
    """(reviewer_id, points, max_points, recommendation) per submission. Query 3."""
    out: dict[str, list[tuple]] = {}
    query = (select(Review.submission_id, Review.reviewer_id, Review.points, Review.max_points,
                    Review.recommendation)
             .join(Submission, Submission.id == Review.submission_id).where(Submission.task_id.in_(task_ids)))
    for sid, reviewer, points, max_points, rec in db.execute(query):
        out.setdefault(sid, []).append((reviewer, points, max_points, rec.value))
    return out


def _decisions(db: Session, task_ids: list[str]) -> dict[str, str]:
    """The current (newest) decision per submission. Query 4."""
    query = (select(Decision.submission_id, Decision.decision)
             .join(Submission, Submission.id == Decision.submission_id).where(Submission.task_id.in_(task_ids))
             .order_by(Decision.created_at, Decision.id))
    return {sid: decision.value for sid, decision in db.execute(query)}


def _stage(revoked: bool, expired: bool, attempt_status, submission_id, has_report, n_reviews, decision) -> Stage:
    if decision:
        return Stage.decided
    if n_reviews:
        return Stage.reviewed
    if has_report:
        return Stage.graded
    if submission_id:
        return Stage.submitted
    # "revoked" by value: the status is being added to AttemptStatus (an admin stopping a running attempt).
    attempt_revoked = getattr(attempt_status, "value", attempt_status) == "revoked"
    if attempt_status is not None and not attempt_revoked:
        return Stage.started
    if revoked or attempt_revoked:
        return Stage.revoked
    if expired:
        return Stage.expired
    return Stage.invited


def load_rows(db: Session, viewer: Viewer, tasks: list[TaskInfo], invitation_id: str | None = None) -> list[CandidateRow]:
    """Every invitation of `tasks` (or just `invitation_id`) as `viewer` may see it, oldest invitation first."""
    if not tasks:
        return []
    by_id = {t.id: t for t in tasks}
    rubric_max = {t.id: t.rubric_max if t.rubric else None for t in tasks}
    ids = list(by_id)
    found = _invitation_rows(db, ids, invitation_id)
    reviews, decisions, now = _reviews(db, ids), _decisions(db, ids), utcnow()
    costs = _costs(db, [r[13] for r in found if r[13] is not None])
    rows = []
    for (inv_id, task_id, name, email, revoked, expired, attempt_id, a_status, started, submitted_at, deadline,
         sub_id, s_status, report_id, score, max_score, passed) in found:
        task = by_id[task_id]
        revs = reviews.get(sub_id, []) if sub_id else []
        mine = bool(revs) and any(r[0] == viewer.user_id for r in revs)
        hidden = bool(revs) and not (viewer.is_admin or mine)
        submitted_at = _aware(submitted_at) if sub_id else None
        end = submitted_at or (now if a_status is AttemptStatus.running else None)
        if end is not None and deadline is not None:
            end = min(end, _aware(deadline))  # cut off at the deadline (the sweep may submit a little later)
        cost = costs.get(report_id) if report_id else None
        row = CandidateRow(
            invitation_id=inv_id, task_slug=task.slug, name=name, raw_email=email, viewer=viewer, invited_at=None,
            stage=_stage(revoked, expired, a_status, sub_id, score is not None, len(revs), decisions.get(sub_id)),
            attempt_id=attempt_id, submission_id=sub_id, submission_status=s_status.value if s_status else None,
            score=score, max_score=max_score, passed=passed, review_count=len(revs),
            rubric_max=rubric_max[task_id], decision=decisions.get(sub_id) if sub_id else None,
            submitted_at=submitted_at, cost_usd=round(cost, 6) if cost is not None else None,
            time_used_s=round((end - _aware(started)).total_seconds(), 1) if started and end else None,
            reviewed_by_me=mine, others_hidden=hidden, reviewers={r[0] for r in revs})
        if revs and not hidden:
            row.rubric_mean = round(sum(r[1] for r in revs) / len(revs), 2)
            row.recommendations = dict(Counter(r[3] for r in revs))
        rows.append(row)
    return rows


SORT_KEYS = {
    "candidate": lambda r: r.candidate.lower(),
    "stage": lambda r: _ORDER[r.stage],
    "score": lambda r: r.score,
    "rubric": lambda r: r.rubric_mean,
    "reviews": lambda r: r.review_count,
    "decision": lambda r: r.decision,
    "time": lambda r: r.time_used_s,
    "cost": lambda r: r.cost_usd,
    "submitted": lambda r: r.submitted_at,
}


def sort_rows(rows: list[CandidateRow], key: str, descending: bool) -> list[CandidateRow]:
    """Rows sorted by a column of the candidates table; empty values always last."""
    get = SORT_KEYS.get(key)
    if get is None:
        return rows
    present = [r for r in rows if get(r) is not None]
    missing = [r for r in rows if get(r) is None]
    return sorted(present, key=get, reverse=descending) + missing


def queue_for(viewer: Viewer, rows: list[CandidateRow]) -> list[CandidateRow]:
    """"Waiting for your review": graded, undecided submissions the viewer has not reviewed.

    Blind reviewers get their own stable shuffled order; admins the order of submission.
    """
    waiting = [r for r in rows if r.stage in (Stage.graded, Stage.reviewed) and not r.reviewed_by_me]
    if viewer.blind:
        return sorted(waiting, key=lambda r: viewer.queue_key(r.submission_id))
    return sorted(waiting, key=lambda r: (r.submitted_at or utcnow(), r.submission_id))


def funnel(rows: list[CandidateRow]) -> dict[str, int]:
    """How many invitations got at least this far: invited, started, submitted, graded, reviewed, decided
    (plus how many were revoked or expired before starting)."""
    return {
        "invited": len(rows),
        "started": sum(r.attempt_id is not None for r in rows),
        "submitted": sum(r.submission_id is not None for r in rows),
        "graded": sum(r.score is not None for r in rows),
        "reviewed": sum(r.review_count > 0 for r in rows),
        "decided": sum(r.decision is not None for r in rows),
        "revoked": sum(r.stage is Stage.revoked for r in rows),
        "expired": sum(r.stage is Stage.expired for r in rows),
    }
