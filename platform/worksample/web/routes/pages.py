"""Candidate pages: the invite landing page (brief, time limit, rules, Start) and its Start form.

Pages are server-rendered Jinja2 with autoescaping, a strict Content-Security-Policy
and no asset from the internet; the brief's Markdown is rendered with raw HTML off.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt

from worksample.web import render
from worksample.web.routes.attempts import client_key, is_secure, guarded_start
from worksample.workspace.access import attempt_cookie_value, cookie_kwargs, guess_limiter
from worksample.workspace.invitations import InvitationState, view_invitation
from worksample.workspace.startqueue import StartQueueFull

WEB = render.WEB
STATIC = {"style.css": "text/css; charset=utf-8", "workspace.js": "text/javascript; charset=utf-8",
          "staff.css": "text/css; charset=utf-8"}
ERRORS = {
    InvitationState.unknown: ("This link is not valid", "Check that you copied the whole link from your invitation email."),
    InvitationState.revoked: ("This invitation was withdrawn", "Please contact the hiring team if you think this is a mistake."),
    InvitationState.expired: ("This invitation has expired", "Please ask the hiring team for a new link."),
    InvitationState.used: ("This work sample is finished", "Your work was submitted. Thank you: the hiring team will be in touch."),
}

router = APIRouter(tags=["pages"], include_in_schema=False)
# The browser's Start waits this long for the workspace, then goes to the workspace page, which shows the
# progress (place in line, "Starting JupyterLab…") until it answers: long enough for a warm claim.
FORM_START_WAIT_S = 2.0


def page(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    """Render a candidate page (the `candidate` CSP variant of the one Jinja environment)."""
    return render.page(request, name, context, status_code, csp="candidate")


def error_page(request: Request, state: InvitationState, status_code: int) -> HTMLResponse:
    """The clear page for a link that cannot be used."""
    title, text = ERRORS[state]
    return page(request, "invite_error.html", {"title": title, "text": text}, status_code)


@lru_cache(maxsize=32)
def _brief_html(readme: str, mtime: float) -> str:
    try:
        text = Path(readme).read_text(encoding="utf-8")
    except OSError:
        return "<p>(The brief is missing; please contact the hiring team.)</p>"
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def brief_html(task_path: str) -> str:
    """The task's README.md as safe HTML (raw HTML in the Markdown is escaped)."""
    readme = Path(task_path) / "README.md"
    mtime = readme.stat().st_mtime if readme.exists() else 0.0
    return _brief_html(str(readme), mtime)


@router.get("/c/{token}", response_class=HTMLResponse)
async def landing(token: str, request: Request) -> Response:
    """The invite landing page: brief, time limit, rules and the Start button."""
    if guess_limiter.blocked(client_key(request)):
        return page(request, "invite_error.html", {"title": "Too many tries", "text": "Please wait a minute."}, 429)
    view = await run_in_threadpool(view_invitation, token)
    if view.state is InvitationState.unknown:
        guess_limiter.failed(client_key(request))
        return error_page(request, view.state, 404)
    if view.state not in (InvitationState.open, InvitationState.running):
        return error_page(request, view.state, 410)
    brief = await run_in_threadpool(brief_html, view.task_path)
    minutes = (view.time_limit_s or 0) // 60
    return page(request, "landing.html", {"view": view, "brief": brief, "minutes": minutes, "token": token,
                                          "running": view.state is InvitationState.running})


@router.post("/c/{token}/start")
async def start_form(token: str, request: Request) -> Response:
    """The Start button: start (or resume) the attempt, set the cookie, go to the workspace."""
    try:
        view = await guarded_start(request, token, wait_s=FORM_START_WAIT_S)
    except HTTPException as exc:
        if exc.status_code == 404:
            return error_page(request, InvitationState.unknown, 404)
        if exc.status_code == 410:
            state = (await run_in_threadpool(view_invitation, token)).state
            return error_page(request, state if state in ERRORS else InvitationState.used, 410)
        if isinstance(exc.__cause__, StartQueueFull):
            wait = exc.__cause__.retry_after_s
            refused = page(request, "invite_error.html", {
                "title": "Many candidates are starting right now",
                "text": f"Please press Start again in about {wait} seconds. Your clock has not started."}, 503)
            refused.headers["Retry-After"] = str(wait)
            return refused
        return page(request, "invite_error.html", {"title": "Could not start your workspace",
                                                   "text": "Please try again in a minute. Your time is not lost: "
                                                           "your clock starts when your workspace is ready."},
                    exc.status_code)
    resp = RedirectResponse(view.workspace_url, status_code=303)
    resp.set_cookie(value=attempt_cookie_value(view.id), **cookie_kwargs(is_secure(request)))
    return resp


@router.get("/static/ws/{name}")
async def static(name: str) -> Response:
    """The candidate pages' own CSS and JS (a fixed list; nothing from the internet)."""
    if name not in STATIC:
        raise HTTPException(status_code=404)
    body = (WEB / "static" / name).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=300",
                                                            "X-Content-Type-Options": "nosniff"})

