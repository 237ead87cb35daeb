"""Who is calling: staff (admin/reviewer) by bearer token or staff cookie.

Candidates never hold staff credentials: their attempt cookie is a different
cookie and grants nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from worksample.accounts import user_for_token
from worksample.db.models import Role

STAFF_COOKIE = "ws_staff"


@dataclass(frozen=True)
class Staff:
    """An authenticated admin or reviewer."""

    user_id: str
    name: str
    role: Role


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(STAFF_COOKIE) or None


def _lookup(token: str) -> Staff | None:
    user = user_for_token(token)
    return Staff(user.id, user.name, user.role) if user else None


async def require_staff(request: Request) -> Staff:
    """FastAPI dependency: an admin or reviewer, else 401."""
    token = _token_from(request)
    staff = await run_in_threadpool(_lookup, token) if token else None
    if staff is None:
        raise HTTPException(status_code=401, detail="staff login required (bearer token or /login)", headers={"WWW-Authenticate": "Bearer"})
    return staff


async def require_admin(request: Request) -> Staff:
    """FastAPI dependency: an admin, else 401/403."""
    staff = await require_staff(request)
    if staff.role is not Role.admin:
        raise HTTPException(status_code=403, detail="admin only")
    return staff
