"""Review JSON API (DESIGN §11): tasks, a task's submissions (JSON or CSV), rubric reviews, decisions.

Bearer token or session (with its CSRF token). Errors name the field:
`{"detail": [{"loc": ["body", "scores", "speed"], "msg": "...", "type": "..."}]}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from worksample import audit
from worksample.db import session_scope
from worksample.review import reviews
from worksample.review.export import submissions_csv
from worksample.review.rows import funnel, load_rows, load_tasks
from worksample.review.viewer import Viewer
from worksample.web.deps import Staff, require_admin, require_reviewer

router = APIRouter(prefix="/api/v1", tags=["reviews"])


class ReviewPut(BaseModel):
    """Body of PUT /api/v1/submissions/{id}/reviews/mine: points per rubric id, a recommendation, a comment."""

    model_config = ConfigDict(extra="forbid")
    scores: dict[str, Any]
    recommendation: Any
    comment: Any = ""


class DecisionPost(BaseModel):
    """Body of POST /api/v1/submissions/{id}/decision."""

    model_config = ConfigDict(extra="forbid")
    decision: Any
    note: Any = ""


def viewer_of(staff: Staff) -> Viewer:
    """The review-side view of a staff member (blind review applied)."""
    return Viewer.of(staff.user_id, staff.role)


def task_rows(viewer: Viewer, slug: str | None):
    """(tasks, rows) for one task slug or the whole catalog, in a fixed number of queries."""
    with session_scope() as db:
        tasks = load_tasks(db, slug)
        return tasks, load_rows(db, viewer, tasks)


def _tasks_api(viewer: Viewer) -> list[dict]:
    tasks, rows = task_rows(viewer, None)
    return [{"slug": t.slug, "title": t.title, "time_limit": t.time_limit, "rubric": t.rubric,
             "counts": funnel([r for r in rows if r.task_slug == t.slug])} for t in tasks]


@router.get("/tasks")
async def list_tasks(staff: Staff = Depends(require_reviewer)) -> list[dict]:
    """The catalog's tasks with their rubric and how many candidates reached each stage."""
    return await run_in_threadpool(_tasks_api, viewer_of(staff))


@router.get("/tasks/{slug}/submissions", response_model=None)
async def task_submissions(slug: str, format: str = "json", staff: Staff = Depends(require_reviewer)):
    """A task's submissions (candidate or pseudonym, stage, score, reviews, decision, time, cost); `?format=csv` exports."""
    if format not in ("json", "csv"):
        raise HTTPException(422, [{"loc": ["query", "format"], "msg": "must be json or csv", "type": "value_error"}])
    tasks, rows = await run_in_threadpool(task_rows, viewer_of(staff), slug)
    if not tasks:
        raise HTTPException(404, f"no task {slug!r} in the catalog")
    if format == "csv":
        body = await run_in_threadpool(submissions_csv, rows)
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{slug}-submissions.csv"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})
    return [r.api() for r in rows if r.submission_id]


def _invalid(exc: reviews.ReviewInvalid) -> HTTPException:
    return HTTPException(422, exc.errors)


@router.put("/submissions/{submission_id}/reviews/mine")
async def put_my_review(submission_id: str, body: ReviewPut, request: Request,
                        staff: Staff = Depends(require_reviewer)) -> dict:
    """Create or update your review (every rubric id, points in 0..max, a recommendation, a comment)."""
    try:
        saved = await run_in_threadpool(reviews.save_review, viewer_of(staff), submission_id, body.scores,
                                        body.recommendation, body.comment)
    except reviews.SubmissionMissing:
        raise HTTPException(404, "no such submission") from None
    except reviews.ReviewInvalid as exc:
        raise _invalid(exc) from None
    await run_in_threadpool(lambda: audit.record("review.submit", actor=staff, target=submission_id,
                                                 detail={"recommendation": saved.recommendation,
                                                         "points": saved.points}))
    return {"submission_id": submission_id, **saved.api()}


@router.get("/submissions/{submission_id}/reviews/mine")
async def get_my_review(submission_id: str, staff: Staff = Depends(require_reviewer)) -> dict:
    """Your own review of a submission (404 until you wrote one)."""
    mine = await run_in_threadpool(reviews.my_review, viewer_of(staff), submission_id)
    if mine is None:
        raise HTTPException(404, "you have not reviewed this submission")
    return {"submission_id": submission_id, **mine.api()}


@router.get("/submissions/{submission_id}/reviews")
async def get_reviews(submission_id: str, staff: Staff = Depends(require_reviewer)) -> dict:
    """Every review of a submission; 403 to a reviewer who has not submitted their own yet (admins always see them)."""
    try:
        found = await run_in_threadpool(reviews.list_reviews, viewer_of(staff), submission_id)
    except reviews.SubmissionMissing:
        raise HTTPException(404, "no such submission") from None
    except reviews.ReviewsHidden as exc:
        raise HTTPException(403, str(exc)) from None
    return {"submission_id": submission_id, "reviews": [r.api() for r in found]}


@router.post("/submissions/{submission_id}/decision")
async def post_decision(submission_id: str, body: DecisionPost, staff: Staff = Depends(require_admin)) -> JSONResponse:
    """Record the hiring decision (advance, reject, hold) with a note; the newest decision counts."""
    try:
        made = await run_in_threadpool(reviews.decide, viewer_of(staff), submission_id, body.decision, body.note)
    except reviews.SubmissionMissing:
        raise HTTPException(404, "no such submission") from None
    except reviews.ReviewInvalid as exc:
        raise _invalid(exc) from None
    await run_in_threadpool(lambda: audit.record("decision.make", actor=staff, target=submission_id,
                                                 detail={"decision": made.decision}))
    return JSONResponse(made.api(submission_id))
