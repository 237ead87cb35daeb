"""Submissions API for staff: status and score, the report (any version), re-grade (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from worksample.errors import RedisUnavailable
from worksample.grading import submissions
from worksample.web.deps import Staff, require_admin, require_reviewer

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])


class SubmissionPublic(BaseModel):
    """A submission as staff see it."""

    id: str
    attempt_id: str | None
    task: str | None
    status: str
    score: float | None
    max_score: float | None
    passed: bool | None
    report_version: int | None
    report_versions: list[int]
    tries: int
    error: str | None
    created_at: str
    updated_at: str


def submission_public(submission_id: str) -> SubmissionPublic | None:
    """The public view of a submission, with the newest report's score; None if unknown."""
    sub = submissions.get_submission(submission_id)
    if sub is None:
        return None
    report = submissions.latest_report(submission_id)
    return SubmissionPublic(
        id=sub.id, attempt_id=sub.attempt_id, task=(report.body.get("task") if report else None), status=sub.status.value,
        score=report.score if report else None, max_score=report.max_score if report else None,
        passed=report.passed if report else None, report_version=report.version if report else None,
        report_versions=submissions.report_versions(submission_id), tries=sub.tries, error=sub.error,
        created_at=sub.created_at.isoformat(), updated_at=sub.updated_at.isoformat())


@router.get("/{submission_id}", response_model=SubmissionPublic)
async def get_submission(submission_id: str, staff: Staff = Depends(require_reviewer)) -> SubmissionPublic:
    """Status (queued, running, graded, error) and score of a submission."""
    found = await run_in_threadpool(submission_public, submission_id)
    if found is None:
        raise HTTPException(404, "no such submission")
    return found


def _report_body(submission_id: str, version: int | None) -> dict | None:
    report = submissions.latest_report(submission_id, version)
    if report is None:
        return None
    body = {k: v for k, v in report.body.items() if k != "run_dir"}  # host paths stay on the host
    return {**body, "version": report.version}


@router.get("/{submission_id}/report")
async def get_report(submission_id: str, version: int | None = None, staff: Staff = Depends(require_reviewer)) -> JSONResponse:
    """The grading report (newest version unless `version` is given)."""
    body = await run_in_threadpool(_report_body, submission_id, version)
    if body is None:
        raise HTTPException(404, "no report (yet) for this submission")
    return JSONResponse(body)


def _regrade(submission_id: str) -> bool:
    from worksample.jobs.grading import enqueue_grading

    if not submissions.request_regrade(submission_id):
        return False
    try:
        enqueue_grading(submission_id)
    except RedisUnavailable:
        pass  # the row is queued: the reconciler enqueues it when Redis is back
    return True


@router.post("/{submission_id}/regrade", status_code=202)
async def regrade(submission_id: str, staff: Staff = Depends(require_admin)) -> dict:
    """Grade a finished submission again; the new report is a new version, the old ones are kept."""
    sub = await run_in_threadpool(submissions.get_submission, submission_id)
    if sub is None:
        raise HTTPException(404, "no such submission")
    if not await run_in_threadpool(_regrade, submission_id):
        raise HTTPException(409, f"submission is {sub.status.value}; only graded or errored submissions can be re-graded")
    return {"submission_id": submission_id, "status": "queued"}
