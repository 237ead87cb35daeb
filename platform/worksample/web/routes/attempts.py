"""Attempts API: start (by invite token), state, submit (by attempt cookie), extend and activity (staff).

Also runs the deadline sweep for as long as the app lives: at start-up (a
deadline that passed while the platform was down is handled now) and every
few seconds after.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from worksample import audit
from worksample.config import get_settings
from worksample.db.models import AttemptStatus
from worksample.errors import UsageError, WorksampleError
from worksample.web.deps import Staff, require_admin, require_reviewer
from worksample.web.lifespan import beside_app
from worksample.workspace import activity, starts
from worksample.workspace.access import ATTEMPT_COOKIE, cookie_attempt_id, cookie_kwargs, guess_limiter
from worksample.workspace.attempts import (
    AttemptClosed,
    AttemptNotFound,
    AttemptView,
    InviteRefused,
    get_attempt,
    open_attempt,
)
from worksample.workspace.deadlines import extend_attempt, sweep_forever
from worksample.workspace.invitations import InvitationState
from worksample.workspace.startqueue import StartQueueFull
from worksample.workspace.submit import submit_attempt

log = logging.getLogger(__name__)
# How long Start waits for the workspace before answering with its progress (the client then polls the
# attempt's state): under the 60 s a front proxy commonly allows a request. A warm Start answers in well under 1 s.
API_START_WAIT_S = 55.0


router = APIRouter(prefix="/api/v1/attempts", tags=["attempts"],
                   lifespan=beside_app(sweep_forever))  # the deadline sweep runs beside the app


class AttemptExtend(BaseModel):
    """Body of POST /api/v1/attempts/{attempt_id}/extend."""

    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(ge=1, le=240)


def client_key(request: Request) -> str:
    """Who is guessing: the peer address (the platform runs behind no proxy it trusts)."""
    return request.client.host if request.client else "?"


def is_secure(request: Request) -> bool:
    """Whether to mark cookies Secure: the request came over https, or the platform is published on https
    (behind a TLS-terminating proxy the request itself arrives as http)."""
    return request.url.scheme == "https" or get_settings().public_url.startswith("https://")


def require_attempt_cookie(request: Request, attempt_id: str) -> None:
    """403 unless the request carries the attempt cookie of `attempt_id`."""
    if cookie_attempt_id(request.cookies.get(ATTEMPT_COOKIE)) != attempt_id:
        raise HTTPException(status_code=403, detail="this browser has not started that attempt")


async def guarded_start(request: Request, token: str, wait_s: float = API_START_WAIT_S) -> AttemptView:
    """Start (or resume) by token with the guess limit applied, waiting up to `wait_s` for the workspace (its
    bring-up goes on after that; the page or client follows its progress). Returns the AttemptView (the
    deadline final once the workspace answered) or raises HTTPException: 404/410 for the link, 503 when the
    workspace could not start, 503 with Retry-After when the host's start queue is full (no clock started)."""
    wait = guess_limiter.blocked(client_key(request))
    if wait:
        raise HTTPException(status_code=429, detail="too many attempts; try again later",
                            headers={"Retry-After": str(int(wait))})
    try:
        view = await run_in_threadpool(open_attempt, token, starts.start_queue())
        if view.status is AttemptStatus.running:
            try:
                await starts.ready(view.id, wait_s)
            except AttemptClosed:  # revoked or handed in meanwhile: the workspace page says so
                pass
            view = await run_in_threadpool(get_attempt, view.id)  # the clock started when the workspace answered
        return view
    except InviteRefused as exc:
        if exc.state is InvitationState.unknown:
            guess_limiter.failed(client_key(request))
            raise HTTPException(status_code=404, detail="this link is not valid") from None
        raise HTTPException(status_code=410, detail=f"this invitation cannot be used ({exc.state.value})") from None
    except StartQueueFull as exc:
        log.warning("start refused: %s", exc)
        raise HTTPException(status_code=503, detail=str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from exc
    except WorksampleError as exc:  # Docker down, image missing, JupyterLab slow: retryable; the clock waits
        log.error("start failed: %s", exc)
        raise HTTPException(status_code=503, detail=f"the workspace could not be started: {exc}") from None


@router.post("/{token}/start")
async def start(token: str, request: Request) -> JSONResponse:
    """Start the clock (or resume the running attempt) and set the attempt cookie; answers once the workspace
    does, or after 55 s with `workspace.state` queued/starting (poll GET /api/v1/attempts/{attempt_id})."""
    view = await guarded_start(request, token)
    progress = await run_in_threadpool(starts.progress, view.id)
    resp = JSONResponse({"attempt_id": view.id, "deadline": view.deadline.isoformat(),
                         "workspace_url": view.workspace_url, "clock_started": view.clock_started,
                         "workspace": progress.public()})
    resp.set_cookie(value=_cookie(view.id), **cookie_kwargs(is_secure(request)))
    return resp


def _cookie(attempt_id: str) -> str:
    from worksample.workspace.access import attempt_cookie_value

    return attempt_cookie_value(attempt_id)


@router.get("/{attempt_id}")
async def state(attempt_id: str, request: Request) -> dict:
    """The attempt's status, deadline and server time (for the countdown)."""
    require_attempt_cookie(request, attempt_id)
    try:
        view = await run_in_threadpool(get_attempt, attempt_id)
    except AttemptNotFound:
        raise HTTPException(status_code=404, detail="no such attempt") from None
    running = view.status is AttemptStatus.running
    # The workspace page polls this while its workspace comes up; a running attempt with no pod and nothing
    # starting one (a failed start shown long enough, an API restart) is brought up again from here.
    progress = await starts.current(attempt_id) if running else starts.Progress("stopped")
    return {**view.public(), "workspace": progress.public()}


@router.post("/{attempt_id}/submit", status_code=202)
async def submit(attempt_id: str, request: Request) -> dict:
    """Hand the work in now; returns the submission id (the same one if already submitted).

    409 for a revoked attempt, and while the attempt's workspace has not yet answered (in the start queue or
    starting: the clock has not started and there is nothing to hand in; the deadline still hands it in).
    """
    require_attempt_cookie(request, attempt_id)
    try:
        submission_id = await run_in_threadpool(submit_attempt, attempt_id, "candidate")
    except AttemptNotFound:
        raise HTTPException(status_code=404, detail="no such attempt") from None
    return {"submission_id": submission_id}


@router.post("/{attempt_id}/extend")
async def extend(attempt_id: str, body: AttemptExtend, _admin: Staff = Depends(require_admin)) -> dict:
    """Move a running attempt's deadline later (before it passes)."""
    try:
        await run_in_threadpool(extend_attempt, attempt_id, body.minutes)
        view = await run_in_threadpool(get_attempt, attempt_id)
    except AttemptNotFound:
        raise HTTPException(status_code=404, detail="no such attempt") from None
    except AttemptClosed as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except UsageError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    await run_in_threadpool(lambda: audit.record("attempt.extend", actor=_admin, target=attempt_id,
                                                 detail={"minutes": body.minutes}))  # H6: audit log
    return view.public()


@router.get("/{attempt_id}/activity")
async def attempt_activity(attempt_id: str, _staff: Staff = Depends(require_reviewer)) -> dict:
    """What the candidate did: cells run (time, cell id, code size), saves, kernel restarts."""
    try:
        await run_in_threadpool(get_attempt, attempt_id)
    except AttemptNotFound:
        raise HTTPException(status_code=404, detail="no such attempt") from None
    return {"attempt_id": attempt_id, "events": await run_in_threadpool(activity.events, attempt_id)}

