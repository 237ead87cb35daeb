"""Everything the review page of one submission shows, as one viewer may see it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from worksample.db import Attempt, Invitation, Submission, Task, session_scope
from worksample.grading import submissions
from worksample.review import reviews, timeline
from worksample.review.rows import CandidateRow, Stage, TaskInfo, load_rows
from worksample.db.models import Role
from worksample.review.viewer import Viewer
from worksample_grader import runfolder as rf


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def budget_of(run_dir: Path) -> float | None:
    """The grading profile's LLM budget (for the report's cost chart), if recorded."""
    try:
        value = json.loads((run_dir / rf.PROFILE_FILE).read_text()).get("budget_usd")
        return float(value) if value is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def check_groups(checks: list[dict]) -> dict[str, dict]:
    """Points and maximum per check group."""
    groups: dict[str, dict] = {}
    for check in checks:
        group = groups.setdefault(check.get("group", "task"), {"points": 0.0, "max_points": 0.0})
        group["points"] += check.get("points", 0)
        group["max_points"] += check.get("max_points", 0)
    return groups


def minutes(seconds: float | None) -> str:
    """A duration for people: "1 h 05 min", "12 min", "40 s"."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    m = int(seconds // 60)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


@dataclass
class SubmissionPage:
    """The review page's data."""

    task: TaskInfo
    row: CandidateRow
    status: str
    error: str | None
    report: dict | None
    versions: list[int]
    budget: float | None
    activity: timeline.Activity | None
    mine: reviews.ReviewView | None
    others: list[reviews.ReviewView] | None  # None: hidden until the viewer reviews
    decision: reviews.DecisionView | None
    time_limit_s: float | None
    has_files: bool

    @property
    def groups(self) -> dict[str, dict]:
        """Check subtotals per group."""
        return check_groups(self.report.get("checks", [])) if self.report else {}


def _ids(submission_id: str) -> tuple | None:
    # (task id, status, error, artifacts, attempt id, activity, started, submitted, deadline)
    with session_scope() as db:
        sub = db.get(Submission, submission_id)
        if sub is None:
            return None
        attempt = db.get(Attempt, sub.attempt_id) if sub.attempt_id else None
        return (sub.task_id, sub.status.value, sub.error or "", Path(sub.artifacts_path),
                attempt.id if attempt else None, list(attempt.activity or []) if attempt else [],
                _aware(attempt.started_at) if attempt else None,
                min(_aware(attempt.submitted_at or sub.created_at), _aware(attempt.deadline)) if attempt else None,
                _aware(attempt.deadline) if attempt else None)


def _row(viewer: Viewer, task: TaskInfo, submission_id: str) -> CandidateRow | None:
    with session_scope() as db:
        inv_id = db.scalar(select(Invitation.id).join(Attempt, Attempt.invitation_id == Invitation.id)
                           .join(Submission, Submission.attempt_id == Attempt.id).where(Submission.id == submission_id))
        if inv_id is None:
            return None
        rows = load_rows(db, viewer, [task], invitation_id=inv_id)
        return rows[0] if rows else None


def _local_row(task: TaskInfo, submission_id: str, status: str) -> CandidateRow:
    # A submission with no invitation (`worksample grade`, `task test`): a report without a candidate.
    return CandidateRow(invitation_id="", task_slug=task.slug, name="Local submission (no candidate)", raw_email="",
                        viewer=Viewer("", Role.admin, False), stage=Stage.graded if status == "graded" else Stage.submitted, invited_at=None,
                        submission_id=submission_id, submission_status=status)


def _task(task_id: str) -> TaskInfo:
    with session_scope() as db:
        row = db.get(Task, task_id)
        spec = row.spec or {}
        return TaskInfo(row.id, row.slug, row.title, list(spec.get("rubric") or []), spec.get("time_limit"))


def _time_limit_s(task: TaskInfo) -> float | None:
    from worksample.catalog.spec import parse_duration

    try:
        return parse_duration(task.time_limit).total_seconds() if task.time_limit else None
    except (ValueError, TypeError):
        return None


def submission_page(viewer: Viewer, submission_id: str, version: int | None = None) -> SubmissionPage | None:
    """The review page of a submission for `viewer`, or None if there is no such submission."""
    found = _ids(submission_id)
    if found is None:
        return None
    task_id, status, error, artifacts, attempt_id, events, started, ended, deadline = found
    task = _task(task_id)
    row = _row(viewer, task, submission_id) or _local_row(task, submission_id, status)
    report = submissions.latest_report(submission_id, version)
    body = report.body if report else None
    mine = reviews.my_review(viewer, submission_id)
    others = reviews.list_reviews(viewer, submission_id) if (mine or viewer.is_admin) else None
    act = (timeline.collect(attempt_id, started, max(deadline, ended or deadline), events, ended)
           if attempt_id and started and deadline else None)
    return SubmissionPage(
        task=task, row=row, status=status, error=error or None, report=body,
        versions=submissions.report_versions(submission_id),
        budget=budget_of(Path(body["run_dir"])) if body and body.get("run_dir") else None,
        activity=act, mine=mine, others=[r for r in others if r.reviewer_id != viewer.user_id] if others else others,
        decision=reviews.current_decision(submission_id), time_limit_s=_time_limit_s(task),
        has_files=(artifacts / "workspace").is_dir())
