"""Invitations in the browser (`/invitations`) and the bulk API (DESIGN §12).

Pages: the list with stages; invite one; upload a CSV; per row revoke, extend
and new link (admins). API: `GET /api/v1/invitations[?task=SLUG]`,
`POST /api/v1/invitations/bulk` (body text/csv → 201 with the invitations, or
422 with `line N: field: reason` problems and nothing created),
`POST /api/v1/invitations/{id}/relink`. Revoke and extend call the attempt
clock (worksample.workspace.deadlines); their API routes are the existing ones.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from worksample import audit
from worksample.admin import invitations as service
from worksample.admin.csv_import import MAX_BYTES
from worksample.db.models import Role
from worksample.errors import WorksampleError
from worksample.web.deps import Staff, current_staff, read_form, require_staff, same_origin
from worksample.web.render import page
from worksample.web.sessions import csrf_ok

router = APIRouter()
staff_page = require_staff(page=True)
admin_page = require_staff(Role.admin, page=True)
UPLOAD_CAP = MAX_BYTES + 64 * 1024  # the CSV plus the form's other fields and part headers


def _status(exc: Exception) -> int:
    # Domain errors carry their HTTP status; anything else refused by a service is a conflict.
    return int(getattr(exc, "http_status", 409))


def _viewer(staff: Staff):
    from worksample.review.viewer import Viewer

    return Viewer.of(staff.user_id, staff.role)


# --- JSON API -------------------------------------------------------------------------------------


@router.get("/api/v1/invitations", tags=["invitations"])
async def list_invitations(task: str | None = None, staff: Staff = Depends(require_staff())) -> dict:
    """Every invitation (of one task with ?task=SLUG) with its stage, newest first."""
    rows, extras = await run_in_threadpool(service.list_rows, _viewer(staff), task or None)
    out = []
    for r in rows:
        x = extras.get(r.invitation_id)
        out.append({"id": r.invitation_id, "task": r.task_slug, "candidate": r.candidate, "email": r.email,
                    "stage": r.stage.value, "invited_at": x.invited_at.isoformat() if x and x.invited_at else None,
                    "expires_at": x.expires_at.isoformat() if x and x.expires_at else None,
                    "attempt_id": r.attempt_id, "attempt_status": x.attempt_status if x else None,
                    "deadline": x.deadline.isoformat() if x and x.deadline else None,
                    "submission_id": r.submission_id, "score": r.score, "passed": r.passed})
    return {"invitations": out}


@router.post("/api/v1/invitations/bulk", status_code=201, tags=["invitations"])
async def bulk(request: Request, task: str | None = None, expires_in_days: int | None = None,
               staff: Staff = Depends(require_staff())) -> JSONResponse:
    """Create invitations from a text/csv body (`name,email[,task]`): all of them (201) or none (422)."""
    if not request.headers.get("content-type", "").split(";")[0].strip() in ("text/csv", "application/csv"):
        raise HTTPException(415, "body: send the CSV with Content-Type: text/csv")
    data = await _read_capped(request, MAX_BYTES)
    if data is None:
        return JSONResponse({"detail": "body too large", "errors": [f"line 1: file: larger than {MAX_BYTES // 1024} KiB"]},
                            status_code=422)
    try:
        days = service.expiry_days(expires_in_days)
        created = await run_in_threadpool(service.create_bulk, data, task, days, staff)
    except service.CsvRefused as exc:
        return JSONResponse({"detail": "nothing was created", "errors": exc.problems}, status_code=422)
    except service.Refused as exc:
        return JSONResponse({"detail": str(exc), "errors": [str(exc)]}, status_code=exc.http_status)
    return JSONResponse({"invitations": [c.public() for c in created]}, status_code=201)


@router.post("/api/v1/invitations/{invitation_id}/relink", tags=["invitations"])
async def relink_api(invitation_id: str, expires_in_days: int | None = None,
                     staff: Staff = Depends(require_staff(Role.admin))) -> dict:
    """A new link for the invitation (the old one stops working); its expiry starts again."""
    try:
        days = service.expiry_days(expires_in_days)
        made = await run_in_threadpool(service.relink, invitation_id, days, staff)
    except service.Refused as exc:
        raise HTTPException(exc.http_status, str(exc)) from None
    return made.public()


async def _read_capped(request: Request, cap: int) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            return None
    return body


# --- pages ----------------------------------------------------------------------------------------


def _page_context(staff: Staff, task: str | None) -> dict:
    from worksample.review.rows import load_tasks
    from worksample.db import session_scope

    service.catalog_slugs()  # tasks never invited to yet are listed too
    rows, extras = service.list_rows(_viewer(staff), task)
    with session_scope() as db:
        tasks = load_tasks(db)
    return {"rows": rows, "extras": extras, "tasks": tasks, "task": task, "blind": _viewer(staff).blind}


async def _render(request: Request, staff: Staff, task: str | None = None, status: int = 200, **extra) -> Response:
    context = await run_in_threadpool(_page_context, staff, task)
    defaults = {"notice": None, "problems": [], "created": [], "mailed": False}
    return page(request, "invitations.html", {**context, **defaults, **extra, "staff": staff}, status)


@router.get("/invitations", include_in_schema=False)
async def invitations_page(request: Request, task: str | None = None, staff: Staff = Depends(staff_page)) -> Response:
    """The invitations page: invite one, upload a CSV, and the list with stages and actions."""
    return await _render(request, staff, task or None)


@router.post("/invitations", include_in_schema=False)
async def invite_one(request: Request, staff: Staff = Depends(staff_page)) -> Response:
    """The invite-one form."""
    form = await read_form(request)
    try:
        days = service.expiry_days(form.get("expires_in_days"))
        made = await run_in_threadpool(service.create_one, form.get("task", ""), form.get("name", ""),
                                       form.get("email", ""), days, staff)
    except WorksampleError as exc:
        return await _render(request, staff, form.get("task") or None, 422, problems=[str(exc)])
    return await _render(request, staff, made.task, created=[made], mailed=made.mailed,
                         notice=f"Invited {made.name}.")


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by field name (stdlib parser; no extra dependency)."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
                                                  + body)
    fields = {}
    if message.is_multipart():
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = part.get_payload(decode=True) or b""
    return fields


@router.post("/invitations/upload", include_in_schema=False)
async def upload(request: Request) -> Response:
    """The CSV upload form (multipart): every row checked first; one bad row and nothing is created."""
    staff = await current_staff(request)
    if staff is None:
        return RedirectResponse("/login?next=/invitations", status_code=303)
    body = await _read_capped(request, UPLOAD_CAP)
    ctype = request.headers.get("content-type", "")
    fields = _multipart(ctype, body) if body is not None and ctype.startswith("multipart/form-data") else {}
    # The session's CSRF token travels inside the multipart body, which the shared form reader does not parse.
    token = fields.get("csrf_token", b"").decode("ascii", "replace")
    if staff.session is not None and (not same_origin(request) or not csrf_ok(staff.session, token)):
        raise HTTPException(403, "CSRF check failed: reload the page and try again")
    task = fields.get("task", b"").decode("utf-8", "replace").strip() or None
    if body is None:
        return await _render(request, staff, task, 422, problems=[f"line 1: file: larger than {MAX_BYTES // 1024} KiB"])
    try:
        days = service.expiry_days(fields.get("expires_in_days", b"").decode("ascii", "replace").strip())
        created = await run_in_threadpool(service.create_bulk, fields.get("file", b""), task, days, staff)
    except service.CsvRefused as exc:
        return await _render(request, staff, task, 422, problems=exc.problems)
    except WorksampleError as exc:
        return await _render(request, staff, task, 422, problems=[str(exc)])
    return await _render(request, staff, task, created=created, mailed=any(c.mailed for c in created),
                         notice=f"Invited {len(created)} candidates.")


@router.post("/invitations/{invitation_id}/revoke", include_in_schema=False)
async def revoke_form(request: Request, invitation_id: str, staff: Staff = Depends(admin_page)) -> Response:
    """Revoke: the link stops working; a running attempt stops now (pod removed, work kept, no submission)."""
    from worksample.workspace.deadlines import revoke_invitation

    try:
        result = await run_in_threadpool(revoke_invitation, invitation_id)
    except WorksampleError as exc:
        return await _render(request, staff, None, _status(exc), problems=[str(exc)])
    await run_in_threadpool(lambda: audit.record("invitation.revoke", actor=staff, target=invitation_id,
                                                 detail={"attempt_id": result.get("attempt_id")}))
    return await _render(request, staff, None, notice="Invitation revoked." + (
        " Its running attempt was stopped; the work is kept." if result.get("attempt_id") else ""))


@router.post("/invitations/{invitation_id}/extend", include_in_schema=False)
async def extend_form(request: Request, invitation_id: str, staff: Staff = Depends(admin_page)) -> Response:
    """Extend the invitation's running attempt by the form's minutes (database and pod deadline)."""
    from worksample.workspace.deadlines import extend_attempt

    form = await read_form(request)
    try:
        minutes = int(form.get("minutes", "0"))
    except ValueError:
        minutes = 0
    attempt_id = await run_in_threadpool(_attempt_of, invitation_id)
    try:
        if attempt_id is None:
            raise HTTPException(409, "this invitation has no running attempt to extend")
        deadline = await run_in_threadpool(extend_attempt, attempt_id, minutes)
    except WorksampleError as exc:
        return await _render(request, staff, None, _status(exc), problems=[str(exc)])
    except HTTPException as exc:
        return await _render(request, staff, None, exc.status_code, problems=[exc.detail])
    await run_in_threadpool(lambda: audit.record("attempt.extend", actor=staff, target=attempt_id,
                                                 detail={"minutes": minutes, "invitation_id": invitation_id}))
    return await _render(request, staff, None, notice=f"Extended by {minutes} minutes: the deadline is now "
                                                      f"{deadline.strftime('%H:%M UTC')}.")


def _attempt_of(invitation_id: str) -> str | None:
    from sqlalchemy import select

    from worksample.db import Attempt, session_scope

    with session_scope() as db:
        return db.scalar(select(Attempt.id).where(Attempt.invitation_id == invitation_id))


@router.post("/invitations/{invitation_id}/relink", include_in_schema=False)
async def relink_form(request: Request, invitation_id: str, staff: Staff = Depends(admin_page)) -> Response:
    """A new link (the old one stops working), shown once."""
    try:
        made = await run_in_threadpool(service.relink, invitation_id, service.DEFAULT_EXPIRY_DAYS, staff)
    except WorksampleError as exc:
        return await _render(request, staff, None, _status(exc), problems=[str(exc)])
    return await _render(request, staff, None, created=[made], mailed=made.mailed,
                         notice=f"New link for {made.name}; the old one no longer works.")
