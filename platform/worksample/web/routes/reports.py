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
from fastapi.responses import HTMLResponse, Response

from worksample.grading import pipeline
from worksample.grading import render as draw
from worksample.web.deps import Staff, require_staff
from worksample.web.render import page, secure_headers

NOTEBOOK_CAP = 32 * 1024**2

router = APIRouter()


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
                      staff: Staff = Depends(require_staff(page=True))) -> Response:
    """The reviewer's report page for one submission."""
    context = await run_in_threadpool(page_context, submission_id, version)
    if context is None:
        raise HTTPException(404, "no such submission")
    return page(request, "report.html", {**context, "staff": staff})


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
                         staff: Staff = Depends(require_staff())) -> Response:
    """The executed notebook, escaped, for the sandboxed frame of the report page."""
    document = await run_in_threadpool(notebook_document, submission_id, version)
    if document is None:
        raise HTTPException(404, "no report for this submission")
    return secure_headers(HTMLResponse(document), "sandbox")
