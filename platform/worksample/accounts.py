"""Users and bearer tokens. Only a token's sha256 is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from worksample.db import ApiToken, User, session_scope
from worksample.db.models import Role


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


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
