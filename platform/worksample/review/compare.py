"""2–4 submissions of one task side by side: checks, cost and calls, rubric scores."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from worksample.db import Attempt, Submission, session_scope
from worksample.db.models import Review
from worksample.grading import submissions
from worksample.review.rows import CandidateRow, TaskInfo, load_rows, load_tasks
from worksample.review.viewer import Viewer

MIN_ITEMS, MAX_ITEMS = 2, 4


@dataclass
class Column:
    """One compared submission."""

    row: CandidateRow
    report: dict
    rubric: dict[str, float] | None  # mean points per rubric item over visible reviews; None when hidden


@dataclass
class CompareView:
    """The compare page, or the reason it cannot be shown."""

    error: str | None = None
    task: TaskInfo | None = None
    columns: list[Column] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)  # id, title, group, max_points, in first-seen order

    def cell(self, column: Column, check_id: str) -> dict | None:
        """A column's result for a check, or None if its report has no such check."""
        return next((c for c in column.report.get("checks", []) if c.get("id") == check_id), None)


def compare_view(viewer: Viewer, ids: list[str]) -> CompareView:
    """The side-by-side view of `ids` for `viewer`; `error` says why not (count, unknown ids, mixed tasks)."""
    ids = list(dict.fromkeys(ids))
    if not MIN_ITEMS <= len(ids) <= MAX_ITEMS:
        return CompareView(error=f"Pick {MIN_ITEMS} to {MAX_ITEMS} submissions of one task (got {len(ids)}).")
    with session_scope() as db:
        subs = {s.id: s for s in db.scalars(select(Submission).where(Submission.id.in_(ids)))}
        missing = [i for i in ids if i not in subs or subs[i].attempt_id is None]
        if missing:
            return CompareView(error=f"No such submission: {', '.join(missing)}.")
        if len({s.task_id for s in subs.values()}) != 1:
            return CompareView(error="These submissions belong to different tasks; compare within one task.")
        task = next(t for t in load_tasks(db) if t.id == subs[ids[0]].task_id)
        invitations = dict(db.execute(select(Attempt.id, Attempt.invitation_id)
                                      .where(Attempt.id.in_([subs[i].attempt_id for i in ids]))).all())
        rows = {r.invitation_id: r for r in load_rows(db, viewer, [task])}
        reviews = db.execute(select(Review.submission_id, Review.scores).where(Review.submission_id.in_(ids))).all()
    view = CompareView(task=task)
    for sid in ids:
        row = rows[invitations[subs[sid].attempt_id]]
        report = submissions.latest_report(sid)
        visible = None if row.others_hidden else [scores for s, scores in reviews if s == sid]
        rubric = None if visible is None else {
            item["id"]: round(sum(v.get(item["id"], 0) for v in visible) / len(visible), 2)
            for item in task.rubric} if visible else {}
        view.columns.append(Column(row, report.body if report else {}, rubric))
    seen: dict[str, dict] = {}
    for column in view.columns:
        for check in column.report.get("checks", []):
            seen.setdefault(check.get("id"), {k: check.get(k) for k in ("id", "title", "group", "max_points")})
    view.checks = list(seen.values())
    return view
