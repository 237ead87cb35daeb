"""Who is calling, in one place: the bearer-token or session dependency, CSRF, and the form reader.

A request is staff when it carries `Authorization: Bearer <token>` (scripts,
integrations) or the `ws_session` cookie (browsers). Candidates never hold
either: their attempt cookie is another cookie and grants nothing here.

Cookie-authenticated requests that change state must carry the session's
CSRF token (form field `csrf_token` or header `X-CSRF-Token`) and, when the
browser sends an Origin, come from our own origin. Bearer requests carry no
ambient credential, so they need neither.

Use: `staff: Staff = Depends(require_staff())` for the API (401/403 JSON),
`Depends(require_staff(Role.admin))` for admin endpoints, and
`Depends(require_staff(page=True))` for HTML pages (redirect to /login).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from worksample.accounts import user_for_token
from worksample.db.models import Role
from worksample.web.sessions import SESSION_COOKIE, csrf_ok, csrf_token, session_user

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_CAP = 64 * 1024


@dataclass(frozen=True)
class Staff:
    """An authenticated admin or reviewer; `session` is the stored session id when the cookie was used."""

    user_id: str
    name: str
    role: Role
    email: str = ""
    session: str | None = None

    @property
    def is_admin(self) -> bool:
        """Admins may do everything."""
        return self.role is Role.admin

    @property
    def csrf(self) -> str:
        """The token the session's forms carry ("" for bearer callers, who need none)."""
        return csrf_token(self.session) if self.session else ""


class LoginRequired(Exception):
    """A page needs a logged-in staff member; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() or None if header.lower().startswith("bearer ") else None


def _lookup(bearer: str | None, cookie: str | None) -> Staff | None:
    if bearer:
        user = user_for_token(bearer)
        return Staff(user.id, user.name, user.role, user.email) if user else None
    found = session_user(cookie) if cookie else None
    return Staff(found.user_id, found.name, found.role, found.email, found.id_hash) if found else None


async def current_staff(request: Request) -> Staff | None:
    """The staff member behind the request (bearer token first, then session cookie), else None. Cached per request."""
    if not hasattr(request.state, "staff"):
        bearer, cookie = _bearer(request), request.cookies.get(SESSION_COOKIE)
        request.state.staff = await run_in_threadpool(_lookup, bearer, cookie) if (bearer or cookie) else None
    return request.state.staff


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form body (first value per field, at most 64 KiB read), parsed once per request."""
    if not hasattr(request.state, "form"):
        body = b""
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = (await request.body())[:FORM_CAP]
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        request.state.form = {k: v[0] for k, v in parsed.items()}
    return request.state.form


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin (Origin, else Referer).

    An absent or opaque ("null") origin decides nothing: the CSRF token still must match.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return True
    return urlsplit(source).netloc == request.headers.get("host", "")


async def check_csrf(request: Request, staff: Staff) -> None:
    """403 unless a cookie-authenticated, state-changing request carries its session's CSRF token."""
    if staff.session is None or request.method in SAFE_METHODS:
        return
    given = request.headers.get("x-csrf-token") or (await read_form(request)).get("csrf_token")
    if not same_origin(request) or not csrf_ok(staff.session, given):
        raise HTTPException(403, "CSRF check failed: reload the page and try again")


def require_staff(role: Role | None = None, page: bool = False):
    """A FastAPI dependency: the caller as `Staff`, with `role` required when given (admins pass every role check).

    Not logged in: 401 (API) or a redirect to /login (`page=True`). Wrong role: 403.
    """

    async def dependency(request: Request) -> Staff:
        staff = await current_staff(request)
        if staff is None:
            if page:
                raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            raise HTTPException(401, "staff login required (bearer token or /login)",
                                headers={"WWW-Authenticate": "Bearer"})
        if role is Role.admin and not staff.is_admin:
            raise HTTPException(403, "admin only")
        await check_csrf(request, staff)
        return staff

    return dependency


# The two everyday cases, as ready-made dependencies.
require_reviewer = require_staff()
require_admin = require_staff(Role.admin)


async def _login_redirect(_request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse("/login?next=" + quote(exc.next_path, safe="/"), status_code=303)


def install(app: FastAPI) -> None:
    """Register the handlers this module's exceptions need (called by the app factory)."""
    app.add_exception_handler(LoginRequired, _login_redirect)
