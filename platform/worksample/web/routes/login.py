"""Staff sign-in: `/login` (email + password), `/logout`, `/account/setup/{token}`, `/account/password`.

Forms shown before login carry a double-submit CSRF token (the `ws_csrf`
cookie repeated in the form); forms after login carry the session's token.
Failed logins are counted per email and per client (web/throttle.py).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from worksample import accounts, audit
from worksample.accounts import AccountRefused, SetupLinkInvalid
from worksample.config import get_settings
from worksample.web import sessions, throttle
from worksample.web.deps import Staff, read_form, require_staff, same_origin
from worksample.web.render import page

router = APIRouter(include_in_schema=False)


def client_key(request: Request) -> str:
    """Who is trying: the peer address (the platform trusts no proxy header)."""
    return request.client.host if request.client else "?"


def _secure(request: Request) -> bool:
    # Secure outside development, and whenever the platform is reached over https.
    return (get_settings().env != "development" or request.url.scheme == "https"
            or get_settings().public_url.startswith("https://"))


def safe_next(target: str | None) -> str:
    """Only same-site paths: a fresh login is never redirected to another origin."""
    ok = target and target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/"


def _prelogin_page(request: Request, name: str, context: dict, status: int = 200) -> Response:
    """A pre-login form page, with the double-submit CSRF cookie set (kept if the browser has one)."""
    token = request.cookies.get(sessions.PRELOGIN_COOKIE) or sessions.new_prelogin_token()
    response = page(request, name, {**context, "csrf": token, "staff": None}, status)
    response.set_cookie(sessions.PRELOGIN_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")
    return response


async def _prelogin_csrf_ok(request: Request, form: dict[str, str]) -> bool:
    cookie = request.cookies.get(sessions.PRELOGIN_COOKIE, "")
    return same_origin(request) and bool(cookie) and form.get("csrf_token") == cookie


@router.get("/login")
async def login_form(request: Request, next: str = "/", done: str | None = None) -> Response:
    """The staff login form."""
    notice = {"password": "Your password is set. Log in with it.", "changed": "Password changed. Log in again.",
              "logout": "You are logged out."}.get(done or "")
    return _prelogin_page(request, "login.html", {"next": safe_next(next), "error": None, "notice": notice,
                                                  "email": ""})


@router.post("/login")
async def login(request: Request) -> Response:
    """Check email and password (throttled), start a fresh session, go to `next`."""
    form = await read_form(request)
    email, password, next_path = form.get("email", "")[:320], form.get("password", ""), safe_next(form.get("next"))
    context = {"next": next_path, "notice": None, "email": email}
    if not await _prelogin_csrf_ok(request, form):
        return _prelogin_page(request, "login.html", {**context, "error": "The form expired. Please try again."}, 403)
    client = client_key(request)
    verdict = await run_in_threadpool(throttle.check, email, client)
    if verdict.refused:
        response = _prelogin_page(request, "login.html", {**context, "error": "Too many failed logins. "
                                  f"Try again in {max(1, verdict.retry_after_s // 60)} minutes."}, 429)
        response.headers["Retry-After"] = str(verdict.retry_after_s)
        return response
    await asyncio.sleep(verdict.delay_s)  # slowed: each failure past the first few costs the guesser time
    user = await run_in_threadpool(accounts.authenticate, email, password)
    if user is None:
        await run_in_threadpool(throttle.failed, email, client)
        await run_in_threadpool(lambda: audit.record("login.failed", actor=email, ok=False, client=client))
        return _prelogin_page(request, "login.html", {**context, "error": "Email or password is wrong."}, 401)
    await run_in_threadpool(throttle.succeeded, email)
    raw = await run_in_threadpool(sessions.start_session, user.id, request.cookies.get(sessions.SESSION_COOKIE))
    await run_in_threadpool(lambda: audit.record("login.ok", actor=user, client=client))
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(sessions.SESSION_COOKIE, raw, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")
    return response


@router.post("/logout")
async def logout(request: Request, staff: Staff = Depends(require_staff(page=True))) -> Response:
    """End this browser's session."""
    raw = request.cookies.get(sessions.SESSION_COOKIE)
    if raw:
        await run_in_threadpool(sessions.end_session, raw)
    await run_in_threadpool(lambda: audit.record("logout", actor=staff, client=client_key(request)))
    response = RedirectResponse("/login?done=logout", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


def _setup_invalid(request: Request) -> Response:
    return page(request, "message.html", {
        "staff": None, "title": "This setup link cannot be used",
        "text": "It was used already, has expired (links last 72 hours) or was replaced by a newer one. "
                "Ask an admin for a new link (`worksample user setup-link EMAIL`)."}, 410)


@router.get("/account/setup/{token}")
async def setup_form(request: Request, token: str) -> Response:
    """Choose a password with a one-time link."""
    user = await run_in_threadpool(accounts.setup_link_user, token)
    if user is None:
        return _setup_invalid(request)
    return _prelogin_page(request, "setup.html", {"user": user, "token": token, "error": None,
                                                  "min_length": accounts.MIN_PASSWORD})


@router.post("/account/setup/{token}")
async def setup(request: Request, token: str) -> Response:
    """Set the password, spend the link, send the user to the login form."""
    form = await read_form(request)
    user = await run_in_threadpool(accounts.setup_link_user, token)
    if user is None:
        return _setup_invalid(request)
    context = {"user": user, "token": token, "min_length": accounts.MIN_PASSWORD}
    if not await _prelogin_csrf_ok(request, form):
        return _prelogin_page(request, "setup.html", {**context, "error": "The form expired. Please try again."}, 403)
    try:
        await run_in_threadpool(accounts.use_setup_link, token, form.get("password", ""), form.get("confirm", ""))
    except AccountRefused as exc:
        return _prelogin_page(request, "setup.html", {**context, "error": str(exc)}, 422)
    except SetupLinkInvalid:
        return _setup_invalid(request)
    await run_in_threadpool(lambda: audit.record("password.set", actor=user, client=client_key(request)))
    return RedirectResponse("/login?done=password", status_code=303)


@router.get("/account/password")
async def password_form(request: Request, staff: Staff = Depends(require_staff(page=True))) -> Response:
    """The change-password form."""
    return page(request, "password.html", {"staff": staff, "error": None, "min_length": accounts.MIN_PASSWORD})


@router.post("/account/password")
async def password_change(request: Request, staff: Staff = Depends(require_staff(page=True))) -> Response:
    """Change the password; every session of the user ends, this browser logs in again."""
    form = await read_form(request)
    try:
        await run_in_threadpool(accounts.change_password, staff.user_id, form.get("current", ""),
                                form.get("password", ""), form.get("confirm", ""))
    except AccountRefused as exc:
        return page(request, "password.html", {"staff": staff, "error": str(exc),
                                               "min_length": accounts.MIN_PASSWORD}, 422)
    await run_in_threadpool(lambda: audit.record("password.change", actor=staff, client=client_key(request)))
    response = RedirectResponse("/login?done=changed", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response
