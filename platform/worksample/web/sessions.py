"""Server-side staff sessions (`ws_session`) and their CSRF tokens.

The cookie holds 256 random bits; the `sessions` table holds only their
sha256, so reading the database logs no one in. A session ends at logout, at a
password change, or after `session_idle_hours` without a request. Logging in
always makes a new session (and drops the one the browser had), so a session id
planted before login is worth nothing after it.

CSRF: every state-changing request authenticated by the cookie must carry a
token, bound to the session by an HMAC with the secret key (no second cookie
to steal or plant). Forms shown before login (login, account setup) use a
double-submit token instead: a random `ws_csrf` cookie repeated in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy import delete, select

from worksample.config import get_settings
from worksample.db import User, session_scope
from worksample.db.models import Role, StaffSession, utcnow

SESSION_COOKIE = "ws_session"
PRELOGIN_COOKIE = "ws_csrf"
TOUCH_EVERY = timedelta(seconds=60)  # write last_seen_at at most this often: not one UPDATE per request


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class SessionUser:
    """The staff member behind a live session."""

    user_id: str
    email: str
    name: str
    role: Role
    id_hash: str


def start_session(user_id: str, replacing: str | None = None) -> str:
    """A new session for `user_id` (dropping the browser's old one, `replacing`); returns the cookie value."""
    raw = secrets.token_urlsafe(32)
    with session_scope() as db:
        if replacing:
            db.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(replacing)))
        db.add(StaffSession(id_hash=_hash(raw), user_id=user_id))
    return raw


def session_user(raw: str) -> SessionUser | None:
    """The user of a live session cookie value, else None (an idle-expired session is deleted)."""
    if not raw or len(raw) > 200:
        return None
    now = utcnow()
    idle = timedelta(hours=get_settings().session_idle_hours)
    with session_scope() as db:
        row = db.get(StaffSession, _hash(raw))
        if row is None:
            return None
        seen = row.last_seen_at if row.last_seen_at.tzinfo else row.last_seen_at.replace(tzinfo=timezone.utc)
        if now - seen > idle:
            db.delete(row)
            return None
        if now - seen > TOUCH_EVERY:
            row.last_seen_at = now
        user = db.get(User, row.user_id)
        return SessionUser(user.id, user.email, user.name, user.role, row.id_hash) if user else None


def end_session(raw: str) -> None:
    """Delete a session (logout); unknown ids are ignored."""
    with session_scope() as db:
        db.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(raw)))


def sessions_of(user_id: str) -> int:
    """How many live-or-idle session rows a user has (for tests and the admin console)."""
    with session_scope() as db:
        return len(db.scalars(select(StaffSession.id_hash).where(StaffSession.user_id == user_id)).all())


def csrf_token(id_hash: str) -> str:
    """The CSRF token of a session: an HMAC of its stored id under the secret key."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"csrf:" + id_hash.encode(), hashlib.sha256).hexdigest()


def csrf_ok(id_hash: str, given: str | None) -> bool:
    """Whether `given` is the session's CSRF token (constant-time)."""
    return bool(given) and hmac.compare_digest(csrf_token(id_hash), given)


def new_prelogin_token() -> str:
    """A random value for the pre-login double-submit cookie and form field."""
    return secrets.token_urlsafe(24)
