"""The candidate's workspace: `/w/{attempt_id}/` is the top bar around JupyterLab; everything below is proxied.

Checks, in order, for every request and websocket: the path does not escape
(`..` in any encoding), the attempt cookie names this attempt (else 403, the
same whether or not the attempt exists), websocket Origin is our own, the
attempt is still running (else 410 with the "submitted" page), and it runs on
this host (else 421 naming its host: the front proxy misrouted it).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from worksample.config import get_settings
from worksample.db.models import utcnow
from worksample.errors import WorksampleError
from worksample.web.lifespan import beside_app
from worksample.web.routes.pages import brief_html, page
from worksample.workspace.access import ATTEMPT_COOKIE, cookie_attempt_id
from worksample.workspace import starts
from worksample.workspace.attempts import (
    AttemptClosed,
    AttemptElsewhere,
    AttemptNotFound,
    attempt_open,
    get_attempt,
)
from worksample.workspace.pods import Jupyter, PodNotReady, read_jupyter
from worksample.workspace.proxy import UpstreamGone, http_proxy, proxy_websocket, unsafe_path
from worksample.workspace.warmpool import keep_warm

log = logging.getLogger(__name__)
# The warm pool's manager runs beside the app (W, issue 17; WORKSAMPLE_WARM_POOL).
router = APIRouter(tags=["workspace"], include_in_schema=False, lifespan=beside_app(keep_warm))
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
PROXY_START_WAIT_S = 60.0  # a request for a workspace still starting waits this long (no thread held), then 503


class PodStarting(PodNotReady):
    """The attempt's workspace is still waiting for a start slot or booting; retry shortly."""


def _granted(cookies, attempt_id: str) -> bool:
    return cookie_attempt_id(cookies.get(ATTEMPT_COOKIE)) == attempt_id


def submitted_page(request: Request, attempt_id: str) -> HTMLResponse:
    """410: the work was submitted (or cut off at the deadline)."""
    try:
        view = get_attempt(attempt_id)
    except AttemptNotFound:
        view = None
    return page(request, "submitted.html", {"view": view}, 410)


async def _jupyter(attempt_id: str, fresh: bool = False) -> Jupyter:
    """The attempt's JupyterLab: from pod.json, or (re)started when absent or `fresh` (through the host's start
    queue, joining a start already under way); PodStarting (503, retry) if it does not answer within
    PROXY_START_WAIT_S."""
    if not fresh:
        found = await run_in_threadpool(read_jupyter, attempt_id)
        if found is not None:
            return found
    jupyter = await starts.ready(attempt_id, PROXY_START_WAIT_S)
    if jupyter is None:
        raise PodStarting(f"the workspace of attempt {attempt_id} is still starting")
    return jupyter


@router.get("/w/{attempt_id}")
async def no_slash(attempt_id: str) -> Response:
    """Redirect to the workspace page."""
    return RedirectResponse(f"/w/{attempt_id}/", status_code=307)


@router.get("/w/{attempt_id}/", response_class=HTMLResponse)
async def workspace_page(attempt_id: str, request: Request) -> Response:
    """The top bar (task, countdown, save state, Submit) around JupyterLab."""
    if not _granted(request.cookies, attempt_id):
        return PlainTextResponse("forbidden", status_code=403)
    if not await run_in_threadpool(attempt_open, attempt_id):
        return await run_in_threadpool(submitted_page, request, attempt_id)
    view = await run_in_threadpool(get_attempt, attempt_id)
    brief = await run_in_threadpool(_brief, view.task_slug)
    progress = await run_in_threadpool(starts.progress, attempt_id)  # the page's script polls on from here
    return page(request, "workspace.html", {"view": view, "brief": brief, "server_ts": utcnow().timestamp(),
                                            "progress": progress, "time_limit_s": view.deadline.timestamp()
                                            - view.started_at.timestamp()})


def _brief(slug: str) -> str:
    """The task's brief as safe HTML, for the top bar's Brief menu."""
    from sqlalchemy import select

    from worksample.db import Task, session_scope

    with session_scope() as db:
        path = db.scalar(select(Task.path).where(Task.slug == slug))
    return brief_html(path) if path else "<p>(The brief is missing; please contact the hiring team.)</p>"


@router.api_route("/w/{attempt_id}/{subpath:path}", methods=ALL_METHODS)
async def proxy(attempt_id: str, subpath: str, request: Request) -> Response:
    """Everything under the workspace: JupyterLab, reverse-proxied over the pod's unix socket."""
    if unsafe_path(request.scope.get("raw_path", b"").decode("latin-1")) or unsafe_path(subpath):
        return PlainTextResponse("bad path", status_code=400)
    if not _granted(request.cookies, attempt_id):
        return PlainTextResponse("forbidden", status_code=403)
    if not await run_in_threadpool(attempt_open, attempt_id):
        return await run_in_threadpool(submitted_page, request, attempt_id)
    try:
        try:
            return await http_proxy.forward(request, await _jupyter(attempt_id), subpath)
        except UpstreamGone:  # the pod went away (platform restart, reaper): resume in a new one
            return await http_proxy.forward(request, await _jupyter(attempt_id, fresh=True), subpath)
    except AttemptClosed:
        return await run_in_threadpool(submitted_page, request, attempt_id)
    except (UpstreamGone, WorksampleError) as exc:
        log.warning("attempt %s: workspace unavailable: %s", attempt_id, exc)
        return PlainTextResponse("your workspace is restarting; retry in a few seconds", status_code=503,
                                 headers={"Retry-After": "3"})


def origin_ok(ws: WebSocket) -> bool:
    """True if the websocket's Origin is this platform's own: the scheme, host and port the request
    came to, or those of the published URL (WORKSAMPLE_PUBLIC_URL, for a TLS-terminating proxy)."""
    origin = ws.headers.get("origin")
    host = ws.headers.get("host")
    if not origin or not host:
        return False
    scheme = "https" if ws.url.scheme == "wss" else "http"
    public = urlsplit(get_settings().public_url)
    return origin in (f"{scheme}://{host}", f"{public.scheme}://{public.netloc}")


@router.websocket("/w/{attempt_id}/{subpath:path}")
async def proxy_ws(ws: WebSocket, attempt_id: str, subpath: str) -> None:
    """Websockets under the workspace (kernels, terminals, events), proxied to JupyterLab."""
    raw = ws.scope.get("raw_path", b"").decode("latin-1")
    if unsafe_path(raw) or unsafe_path(subpath) or not _granted(ws.cookies, attempt_id) or not origin_ok(ws):
        await ws.close(code=1008)  # before accept: the handshake gets 403
        return
    try:
        is_open = await run_in_threadpool(attempt_open, attempt_id)
    except AttemptElsewhere as exc:  # HTTP requests get 421 from the app's DomainError handler
        log.warning("%s", exc)
        await ws.close(code=1013, reason="this attempt runs on another host")
        return
    if not is_open:
        await ws.close(code=1008)
        return
    try:
        try:
            await proxy_websocket(ws, await _jupyter(attempt_id))
        except UpstreamGone:
            await proxy_websocket(ws, await _jupyter(attempt_id, fresh=True))
    except (UpstreamGone, WorksampleError) as exc:
        log.warning("attempt %s: websocket unavailable: %s", attempt_id, exc)
        await ws.close(code=1013)
