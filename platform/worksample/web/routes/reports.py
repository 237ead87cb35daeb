"""The reviewer's HTML report page and the sandboxed notebook frame; the staff pages' Jinja2 and CSP.

`/submissions/{id}/report` shows score, checks, run status, the LLM-call
timeline (inline SVG), usage and cost, and frames `/submissions/{id}/notebook`:
the executed notebook with every candidate string escaped, served with a CSP
whose `sandbox` directive (and the iframe's own `sandbox` attribute) forbids
scripts, forms and same-origin access. Nothing is loaded from the internet.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from worksample.grading import pipeline
from worksample.grading import render as draw
from worksample.web.auth import STAFF_COOKIE, Staff
from worksample.accounts import user_for_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
# Staff pages load nothing but from this origin, run no script, and frame only this origin.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# Candidate-derived documents: no scripts, no network, no forms, opaque origin (sandbox).
SANDBOX_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
               "form-action 'none'; base-uri 'none'; frame-ancestors 'self'")
NOTEBOOK_CAP = 32 * 1024**2

router = APIRouter()


def secure_headers(response: Response, csp: str = PAGE_CSP) -> Response:
    """Add the CSP and the usual hardening headers to a response."""
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if "frame-ancestors 'none'" in csp:
        response.headers["X-Frame-Options"] = "DENY"
    return response


def render(request: Request, name: str, context: dict, status_code: int = 200) -> Response:
    """Render a staff template with the strict CSP."""
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
    return secure_headers(response)


def _staff_for(token: str) -> Staff | None:
    user = user_for_token(token)
    return Staff(user.id, user.name, user.role) if user else None


async def staff_or_none(request: Request) -> Staff | None:
    """The staff member behind the request's bearer token or cookie, else None (pages send you to /login)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(STAFF_COOKIE)
    return await run_in_threadpool(_staff_for, token) if token else None


def _budget(run_dir: Path) -> float | None:
    try:
        value = json.loads((run_dir / "profile.json").read_text()).get("budget_usd")
        return float(value) if value is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _groups(checks: list[dict]) -> dict[str, dict]:
    groups: dict[str, dict] = {}
    for check in checks:
        group = groups.setdefault(check["group"], {"points": 0.0, "max_points": 0.0})
        group["points"] += check["points"]
        group["max_points"] += check["max_points"]
    return groups


def page_context(submission_id: str, version: int | None) -> dict | None:
    """Everything the report page shows, or None for an unknown submission."""
    sub = pipeline.get_submission(submission_id)
    if sub is None:
        return None
    report = pipeline.latest_report(submission_id, version)
    body = report.body if report else None
    budget = _budget(Path(body["run_dir"])) if body and body.get("run_dir") else None
    return {"submission": sub, "report": body, "versions": pipeline.report_versions(submission_id),
            "timeline": draw.timeline_svg(body.get("timeline", []), budget) if body else "",
            "groups": _groups(body["checks"]) if body else {}, "budget": budget}


@router.get("/submissions/{submission_id}/report", response_class=HTMLResponse, include_in_schema=False)
async def report_page(request: Request, submission_id: str, version: int | None = None,
                      staff: Staff | None = Depends(staff_or_none)) -> Response:
    """The reviewer's report page for one submission."""
    if staff is None:
        return RedirectResponse(f"/login?next=/submissions/{submission_id}/report", status_code=303)
    context = await run_in_threadpool(page_context, submission_id, version)
    if context is None:
        raise HTTPException(404, "no such submission")
    return render(request, "report.html", {**context, "staff": staff})


def notebook_document(submission_id: str, version: int | None) -> str | None:
    """The executed notebook as escaped HTML, or None when the submission has no report."""
    report = pipeline.latest_report(submission_id, version)
    if report is None:
        return None
    path = Path(report.body.get("run_dir") or "/nonexistent") / "notebook.ipynb"
    if path.is_symlink() or not path.is_file() or path.stat().st_size > NOTEBOOK_CAP:
        return draw.notebook_html({})
    try:
        nb = json.loads(path.read_text(errors="replace"))
    except ValueError:
        return draw.notebook_html({})
    return draw.notebook_html(nb if isinstance(nb, dict) else {})


@router.get("/submissions/{submission_id}/notebook", response_class=HTMLResponse, include_in_schema=False)
async def notebook_frame(submission_id: str, version: int | None = None,
                         staff: Staff | None = Depends(staff_or_none)) -> Response:
    """The executed notebook, escaped, for the sandboxed frame of the report page."""
    if staff is None:
        raise HTTPException(401, "staff login required")
    document = await run_in_threadpool(notebook_document, submission_id, version)
    if document is None:
        raise HTTPException(404, "no report for this submission")
    return secure_headers(HTMLResponse(document), SANDBOX_CSP)
