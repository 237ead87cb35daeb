"""Staff accounts: users, passwords (argon2id), one-time setup links and bearer tokens.

Only hashes are stored: a token's and a setup link's sha256, a password's
argon2id hash. Secrets are shown once (the CLI prints them) and never logged.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update

from worksample.config import get_settings
from worksample.db import ApiToken, User, session_scope
from worksample.db.models import AccountSetupLink, Role, StaffSession, utcnow
from worksample.errors import UsageError, WorksampleError

SETUP_LINK_VALIDITY = timedelta(hours=72)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes anything, but a megabyte "password" is a denial of service
FIRST_ADMIN = "admin@localhost"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A fixed hash to verify against when the email is unknown, so timing does not tell which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


class AccountRefused(UsageError):
    """Bad account input (email, password rules, an existing or unknown user); the message names the field."""


class SetupLinkInvalid(WorksampleError):
    """A setup link that is unknown, used, expired or replaced."""


def hash_token(token: str) -> str:
    """The stored form of a token (bearer token, setup link, session id)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """An email as stored: trimmed and lower-cased; raises AccountRefused if it is not an address."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise AccountRefused(f"email: {email!r} is not an email address")
    return email


@dataclass(frozen=True)
class SetupLink:
    """A new setup link; `token` is shown once."""

    user_id: str
    email: str
    token: str
    expires_at: datetime

    @property
    def path(self) -> str:
        """The link's path on the platform."""
        return f"/account/setup/{self.token}"

    def url(self, base: str | None = None) -> str:
        """The full link, on `base` (default the public URL)."""
        return (base or get_settings().public_url).rstrip("/") + self.path


def add_user(email: str, role: Role, name: str | None = None) -> SetupLink:
    """Create a staff user with no password and return their one-time setup link; AccountRefused if the email exists."""
    email = normalise_email(email)
    with session_scope() as db:
        if db.scalar(select(User).where(User.email == email)) is not None:
            raise AccountRefused(f"user {email} already exists (a new setup link: `worksample user setup-link {email}`)")
        user = User(email=email, name=(name or email.split("@")[0]).strip()[:200], role=role)
        db.add(user)
        db.flush()
        return _new_link(db, user)


def new_setup_link(email: str) -> SetupLink:
    """A fresh setup link for an existing user (a forgotten password); older unused links stop working."""
    email = normalise_email(email)
    with session_scope() as db:
        user = db.scalar(select(User).where(User.email == email))
        if user is None:
            raise AccountRefused(f"no user {email} (create one: `worksample user add {email} --role reviewer`)")
        return _new_link(db, user)


def _new_link(db, user: User) -> SetupLink:
    db.execute(update(AccountSetupLink).where(AccountSetupLink.user_id == user.id, AccountSetupLink.used_at.is_(None))
               .values(used_at=utcnow()))  # one live link per user
    token = secrets.token_urlsafe(32)
    expires = utcnow() + SETUP_LINK_VALIDITY
    db.add(AccountSetupLink(user_id=user.id, token_hash=hash_token(token), expires_at=expires))
    return SetupLink(user.id, user.email, token, expires)


def setup_link_user(token: str) -> User | None:
    """The user a live (unused, unexpired) setup link belongs to, else None."""
    if not token or len(token) > 200:
        return None
    with session_scope() as db:
        link = db.scalar(select(AccountSetupLink).where(AccountSetupLink.token_hash == hash_token(token)))
        if link is None or link.used_at is not None or link.expires_at <= utcnow():
            return None
        return db.get(User, link.user_id)


def check_password_rules(password: str, confirm: str | None = None) -> None:
    """Raise AccountRefused naming the field when a new password is too short, too long or not confirmed."""
    if len(password) < MIN_PASSWORD:
        raise AccountRefused(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountRefused(f"password: at most {MAX_PASSWORD} characters")
    if confirm is not None and confirm != password:
        raise AccountRefused("confirm: the two passwords differ")


def use_setup_link(token: str, password: str, confirm: str) -> User:
    """Set the password of the link's user, spend the link and end their sessions.

    Raises SetupLinkInvalid for an unknown, used or expired link (nothing changes) and
    AccountRefused for a password that breaks the rules (the link stays usable).
    """
    check_password_rules(password, confirm)
    with session_scope() as db:
        link = db.scalar(select(AccountSetupLink).where(AccountSetupLink.token_hash == hash_token(token))
                         .with_for_update())
        if link is None or link.used_at is not None or link.expires_at <= utcnow():
            raise SetupLinkInvalid("this setup link is not valid: it was used already, has expired, or was replaced")
        user = db.get(User, link.user_id)
        link.used_at = utcnow()
        user.password_hash = _hasher.hash(password)
        db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        return user


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password match, else None (same work either way)."""
    try:
        email = normalise_email(email)
    except AccountRefused:
        email = ""
    with session_scope() as db:
        user = db.scalar(select(User).where(User.email == email)) if email else None
        stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
        try:
            _hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.password_hash:
            return None
        if _hasher.check_needs_rehash(stored):
            user.password_hash = _hasher.hash(password)
        return user


def change_password(user_id: str, current: str, new: str, confirm: str) -> None:
    """Change a password after checking the current one; every session of the user ends (AccountRefused names the field)."""
    check_password_rules(new, confirm)
    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None or not user.password_hash:
            raise AccountRefused("no such user")
        try:
            _hasher.verify(user.password_hash, current[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            raise AccountRefused("current: the current password is wrong") from None
        user.password_hash = _hasher.hash(new)
        db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def admin_login_lines(base_url: str) -> list[str]:
    """What `worksample up` prints about logging in: a setup link for admin@localhost on first run, else where to log in.

    Creates admin@localhost when it does not exist. A link is printed while the
    account has no password (each run replaces the previous link).
    """
    with session_scope() as db:
        user = db.scalar(select(User).where(User.email == FIRST_ADMIN))
        has_password = user is not None and bool(user.password_hash)
    hint = f"(a new link later: `worksample user setup-link {FIRST_ADMIN}`)"
    if has_password:
        return [f"admin login: {base_url.rstrip('/')}/login as {FIRST_ADMIN} {hint}"]
    link = new_setup_link(FIRST_ADMIN) if user is not None else add_user(FIRST_ADMIN, Role.admin, "admin")
    return [f"admin setup link (one-time, 72 h): {link.url(base_url)} {hint}"]


def create_token(role: Role, name: str) -> str:
    """Create (or reuse) the user `name` with `role` and return a new bearer token for it."""
    token = "wst_" + secrets.token_urlsafe(32)
    email = f"{name}@worksample.local" if "@" not in name else name
    with session_scope() as db:
        user = db.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role)
            db.add(user)
            db.flush()
        elif user.role != role:
            raise ValueError(f"user {email} exists with role {user.role.value}, not {role.value}")
        db.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token)))
    return token


def user_for_token(token: str) -> User | None:
    """The user a live bearer token belongs to, or None."""
    with session_scope() as db:
        row = db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)))
        return row.user if row else None
