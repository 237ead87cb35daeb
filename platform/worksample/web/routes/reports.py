"""The executed notebook of a submission, for the sandboxed frame of the review page.

`/submissions/{id}/notebook` serves the executed notebook with every candidate
string escaped and Markdown cells rendered then sanitised (review/markdown.py),
under the `sandbox` CSP: no scripts, no network, no forms, an opaque origin;
the review page's iframe carries its own `sandbox` attribute as well.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from worksample.grading import submissions
from worksample.grading import render as draw
from worksample.review.markdown import render_markdown
from worksample.web.deps import Staff, require_staff
from worksample.web.render import secure_headers
from worksample_grader import runfolder as rf

NOTEBOOK_CAP = 32 * 1024**2

router = APIRouter()


def notebook_document(submission_id: str, version: int | None, page: int = 1) -> str | None:
    """One page of the executed notebook as safe HTML, or None when the submission has no report."""
    report = submissions.latest_report(submission_id, version)
    if report is None:
        return None
    path = Path(report.body.get("run_dir") or "/nonexistent") / rf.NOTEBOOK_FILE
    if path.is_symlink() or not path.is_file() or path.stat().st_size > NOTEBOOK_CAP:
        return draw.notebook_html({}, markdown=render_markdown)
    try:
        nb = json.loads(path.read_text(errors="replace"))
    except ValueError:
        return draw.notebook_html({}, markdown=render_markdown)
    # Pages of a long notebook link to each other keeping the report version (grading/render.py).
    query = f"version={version}&" if version is not None else ""
    return draw.notebook_html(nb if isinstance(nb, dict) else {}, markdown=render_markdown, page=page,
                              page_url=lambda n: f"?{query}page={n}")


@router.get("/submissions/{submission_id}/notebook", response_class=HTMLResponse, include_in_schema=False)
async def notebook_frame(submission_id: str, version: int | None = None, page: int = Query(1, ge=1, le=100_000),
                         staff: Staff = Depends(require_staff())) -> Response:
    """The executed notebook, escaped, for the sandboxed frame of the review page (one page of cells)."""
    document = await run_in_threadpool(notebook_document, submission_id, version, page)
    if document is None:
        raise HTTPException(404, "no report for this submission")
    return secure_headers(HTMLResponse(document), "sandbox")
