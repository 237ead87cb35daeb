"""Invitations API: staff invite a candidate to a task; admins revoke a link."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from worksample import audit
from worksample.errors import UsageError
from worksample.web.deps import Staff, require_admin, require_reviewer
from worksample.workspace.deadlines import revoke_invitation
from worksample.workspace.invitations import UnknownTask, create_invitation

router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"])


class Invitee(BaseModel):
    """Who is invited."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)


class InvitationCreate(BaseModel):
    """Body of POST /api/v1/invitations."""

    model_config = ConfigDict(extra="forbid")
    task: str = Field(min_length=1, max_length=100, description="task slug")
    candidate: Invitee


class InvitationPublic(BaseModel):
    """A new invitation: the token is shown this once."""

    id: str
    token: str
    url: str


@router.post("", status_code=201, response_model=InvitationPublic)
async def invite(body: InvitationCreate, staff: Staff = Depends(require_reviewer)) -> InvitationPublic:
    """Invite a candidate to a task; returns the link (shown once)."""
    try:
        made = await run_in_threadpool(create_invitation, body.task, body.candidate.name, body.candidate.email,
                                       staff.user_id)
    except UnknownTask as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except UsageError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    await run_in_threadpool(lambda: audit.record("invitation.create", actor=staff, target=made.id,
                                                 detail={"task": body.task}))  # H6: audit log
    return InvitationPublic(id=made.id, token=made.token, url=made.url)


@router.post("/{invitation_id}/revoke")
async def revoke(invitation_id: str, _admin: Staff = Depends(require_admin)) -> dict:
    """Revoke an invitation: its link stops working and a running attempt stops at once (work kept, no submission)."""
    result = await run_in_threadpool(revoke_invitation, invitation_id)  # 404 / 409 from the domain error handler
    await run_in_threadpool(lambda: audit.record("invitation.revoke", actor=_admin, target=invitation_id,
                                                 detail={"attempt_id": result.get("attempt_id")}))  # H6: audit log
    return result
