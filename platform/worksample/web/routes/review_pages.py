"""The hiring team's pages (DESIGN §11): dashboard, candidates, the review page, compare.

Server-rendered, readable without script, under the strict staff CSP. Every
candidate-derived string goes through Jinja's autoescaping; the only markup
marked safe is SVG the server drew from numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from worksample import audit
from worksample.grading import render as draw
from worksample.review import detail, reviews
from worksample.review.compare import compare_view
from worksample.review.files import workspace_zip
from worksample.review.rows import SORT_KEYS, funnel, queue_for, sort_rows
from worksample.review.timeline import activity_svg
from worksample.web.deps import Staff, read_form, require_staff
from worksample.web.render import page
from worksample.web.routes.reviews import task_rows, viewer_of

router = APIRouter(include_in_schema=False)
QUEUE_SHOWN = 25  # the dashboard shows the head of the queue; each task's candidates page has the rest
staff_page = require_staff(page=True)


def _dashboard(staff: Staff) -> dict:
    viewer = viewer_of(staff)
    tasks, rows = task_rows(viewer, None)
    by_task = {t.slug: funnel([r for r in rows if r.task_slug == t.slug]) for t in tasks}
    queue = queue_for(viewer, rows)
    return {"tasks": tasks, "funnels": by_task, "queue": queue[:QUEUE_SHOWN], "queue_total": len(queue),
            "titles": {t.slug: t.title for t in tasks}, "blind": viewer.blind}


@router.get("/")
async def dashboard(request: Request, staff: Staff = Depends(staff_page)) -> Response:
    """The dashboard: "waiting for your review" first, then each task's funnel."""
    context = await run_in_threadpool(_dashboard, staff)
    return page(request, "dashboard.html", {**context, "staff": staff, "minutes": detail.minutes})


@router.get("/tasks/{slug}/candidates")
async def candidates(request: Request, slug: str, sort: str = "submitted", dir: str = "desc",
                     staff: Staff = Depends(staff_page)) -> Response:
    """One row per invitation of a task, sortable by any column; a CSV link."""
    tasks, rows = await run_in_threadpool(task_rows, viewer_of(staff), slug)
    if not tasks:
        raise HTTPException(404, f"no task {slug!r}")
    sort = sort if sort in SORT_KEYS else "submitted"
    rows = sort_rows(rows, sort, dir != "asc")
    return page(request, "candidates.html", {"staff": staff, "task": tasks[0], "rows": rows, "sort": sort,
                                             "dir": "asc" if dir == "asc" else "desc", "minutes": detail.minutes,
                                             "blind": viewer_of(staff).blind})


def _scalable(svg: str) -> str:
    # The report chart has a fixed size; a viewBox lets it shrink with the column instead of being cut off.
    if svg.startswith("<svg ") and "viewBox" not in svg[:300]:
        return svg.replace("<svg ", f'<svg viewBox="0 0 {draw.WIDTH} {draw.HEIGHT}" ', 1)
    return svg


def _submission_context(staff: Staff, submission_id: str, version: int | None) -> dict | None:
    view = detail.submission_page(viewer_of(staff), submission_id, version)
    if view is None:
        return None
    report = view.report or {}
    return {"view": view, "row": view.row, "report": view.report,
            "llm_svg": _scalable(draw.timeline_svg(report.get("timeline", []), view.budget)) if view.report else "",
            "activity_svg": activity_svg(view.activity) if view.activity else "", "minutes": detail.minutes}


async def _review_page(request: Request, staff: Staff, submission_id: str, version: int | None = None,
                       extra: dict | None = None, status: int = 200) -> Response:
    context = await run_in_threadpool(_submission_context, staff, submission_id, version)
    if context is None:
        raise HTTPException(404, "no such submission")
    return page(request, "submission.html", {**context, "staff": staff, "errors": [], "form": None,
                                             **(extra or {})}, status)


@router.get("/submissions/{submission_id}")
async def submission_page(request: Request, submission_id: str, version: int | None = None,
                          saved: str | None = None, staff: Staff = Depends(staff_page)) -> Response:
    """The review page: who and what, the report, the activity, the notebook, the rubric form, reviews, decision."""
    return await _review_page(request, staff, submission_id, version, {"saved": saved})


@router.get("/submissions/{submission_id}/report")
async def old_report_page(submission_id: str, version: int | None = None,
                          _staff: Staff = Depends(staff_page)) -> Response:
    """The report now lives on the review page."""
    suffix = f"?version={version}" if version is not None else ""
    return RedirectResponse(f"/submissions/{submission_id}{suffix}", status_code=303)


def _scores_from(form: dict[str, str]) -> dict:
    scores: dict = {}
    for key, value in form.items():
        if key.startswith("score.") and value.strip() != "":
            try:
                scores[key[6:]] = float(value)
            except ValueError:
                scores[key[6:]] = value  # kept as text: the check names it
    return scores


async def _save_form(request: Request, staff: Staff, submission_id: str, form: dict, saved: str, anchor: str,
                     save: Callable[[Any], Any], audited: Callable[[Any], tuple[str, dict]]) -> Response:
    """Run `save(viewer)` for a review-page form, audit `audited(result)` (event, detail) and go back to the
    page at `#anchor`; a missing submission is a 404, an invalid form the page again with its errors (422)."""
    try:
        result = await run_in_threadpool(save, viewer_of(staff))
    except reviews.SubmissionMissing:
        raise HTTPException(404, "no such submission") from None
    except reviews.ReviewInvalid as exc:
        return await _review_page(request, staff, submission_id, None, {"errors": exc.errors, "form": form}, 422)
    event, audit_detail = audited(result)
    await run_in_threadpool(lambda: audit.record(event, actor=staff, target=submission_id, detail=audit_detail))
    return RedirectResponse(f"/submissions/{submission_id}?saved={saved}#{anchor}", status_code=303)


@router.post("/submissions/{submission_id}/review")
async def review_form(request: Request, submission_id: str, staff: Staff = Depends(staff_page)) -> Response:
    """Save the rubric form (your one review, updatable)."""
    form = await read_form(request)
    return await _save_form(request, staff, submission_id, form, "review", "reviews",
                            lambda viewer: reviews.save_review(viewer, submission_id, _scores_from(form),
                                                               form.get("recommendation"), form.get("comment", "")),
                            lambda saved: ("review.submit", {"recommendation": saved.recommendation}))


@router.post("/submissions/{submission_id}/decision")
async def decision_form(request: Request, submission_id: str,
                        staff: Staff = Depends(require_staff(page=True))) -> Response:
    """Record the admin's decision from the review page."""
    if not staff.is_admin:
        raise HTTPException(403, "only admins decide")
    form = await read_form(request)
    return await _save_form(request, staff, submission_id, form, "decision", "decision",
                            lambda viewer: reviews.decide(viewer, submission_id, form.get("decision"),
                                                          form.get("note", "")),
                            lambda made: ("decision.make", {"decision": made.decision}))


@router.get("/submissions/{submission_id}/files")
async def files(submission_id: str, staff: Staff = Depends(staff_page)) -> Response:
    """The candidate's files as a zip (what was snapshotted at submission)."""
    made = await run_in_threadpool(workspace_zip, viewer_of(staff), submission_id)
    if made is None:
        raise HTTPException(404, "no files for this submission")
    name, stream = made
    return StreamingResponse(stream, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


@router.get("/compare")
async def compare(request: Request, submissions: list[str] | None = Query(None),
                  staff: Staff = Depends(staff_page)) -> Response:
    """2–4 submissions of one task side by side: check by check, cost, calls, rubric scores."""
    ids = [i for part in (submissions or []) for i in part.split(",") if i.strip()]
    view = await run_in_threadpool(compare_view, viewer_of(staff), ids)
    if view.error:
        return page(request, "message.html", {"staff": staff, "title": "Cannot compare these submissions",
                                              "text": view.error, "link": {"href": "/", "text": "Back to the dashboard"}},
                    422)
    return page(request, "compare.html", {"staff": staff, "view": view})
