"""A simple staff login: paste a bearer token (from `worksample token create`), get the `ws_staff` cookie."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from worksample.accounts import user_for_token
from worksample.config import get_settings
from worksample.web.auth import STAFF_COOKIE
from worksample.web.routes.reports import render

router = APIRouter()
COOKIE_MAX_AGE = 12 * 3600


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect a fresh login to another origin.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_form(request: Request, next: str = "/") -> Response:
    """The staff login form."""
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


async def _form(request: Request) -> dict[str, str]:
    # A tiny urlencoded parser: two fields do not justify another dependency.
    body = (await request.body())[:8192].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body).items()}


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    """Check a staff token and set the staff cookie."""
    form = await _form(request)
    token, next = form.get("token", ""), form.get("next", "/")
    user = await run_in_threadpool(user_for_token, token.strip()) if token.strip() else None
    if user is None:
        return render(request, "login.html", {"next": _safe_next(next), "error": "That token is not valid."}, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(STAFF_COOKIE, token.strip(), max_age=COOKIE_MAX_AGE, httponly=True, samesite="strict",
                        secure=get_settings().env != "development")
    return response


@router.post("/logout", include_in_schema=False)
async def logout() -> Response:
    """Drop the staff cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(STAFF_COOKIE)
    return response
