"""Login throttling per email and per client, kept in the database so every API replica sees the same counts.

Failures are counted in a fixed window. Past `SLOW_AFTER` failures each new
try is delayed (a growing pause before the answer); past `REFUSE_AFTER` tries
are refused with 429 *before* the password is checked, until the window ends.
A successful login clears its email's count but not its client's, so a
guesser cannot reset the client count by logging into an account of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy.exc import IntegrityError

from worksample.db import session_scope
from worksample.db.models import LoginThrottle, utcnow

WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Limits:
    """Failures in a window after which tries are slowed, then refused."""

    slow_after: int
    refuse_after: int


EMAIL_LIMITS = Limits(slow_after=3, refuse_after=10)
CLIENT_LIMITS = Limits(slow_after=10, refuse_after=50)
MAX_DELAY_S = 3.0


@dataclass(frozen=True)
class Verdict:
    """What to do with a login try: refuse it (429 with `retry_after_s`), or answer after `delay_s`."""

    refused: bool
    delay_s: float
    retry_after_s: int


def _keys(email: str, client: str) -> list[tuple[str, Limits]]:
    return [(f"email:{email.strip().lower()[:320]}", EMAIL_LIMITS), (f"client:{client[:64]}", CLIENT_LIMITS)]


def check(email: str, client: str) -> Verdict:
    """The verdict for a new try by `client` on `email`, from the failures so far."""
    now, delay, refused, retry = utcnow(), 0.0, False, 0
    with session_scope() as db:
        for key, limits in _keys(email, client):
            row = db.get(LoginThrottle, key)
            if row is None:
                continue
            start = row.window_start if row.window_start.tzinfo else row.window_start.replace(tzinfo=timezone.utc)
            if now - start > WINDOW:
                continue
            if row.failures >= limits.refuse_after:
                refused, retry = True, max(retry, int((start + WINDOW - now).total_seconds()) + 1)
            elif row.failures >= limits.slow_after:
                delay = max(delay, min(MAX_DELAY_S, 0.5 * (row.failures - limits.slow_after + 1)))
    return Verdict(refused, 0.0 if refused else delay, retry)


def failed(email: str, client: str) -> None:
    """Count one failed login against the email and the client."""
    for key, _limits in _keys(email, client):
        for _ in range(2):  # two replicas inserting the same new key: the loser retries as an update
            try:
                _count(key)
                break
            except IntegrityError:
                continue


def _count(key: str) -> None:
    now = utcnow()
    with session_scope() as db:
        row = db.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            db.add(LoginThrottle(key=key, failures=1, window_start=now))
            return
        start = row.window_start if row.window_start.tzinfo else row.window_start.replace(tzinfo=timezone.utc)
        if now - start > WINDOW:
            row.failures, row.window_start = 1, now
        else:
            row.failures += 1


def succeeded(email: str) -> None:
    """Clear the email's failures after a successful login."""
    with session_scope() as db:
        row = db.get(LoginThrottle, _keys(email, "")[0][0])
        if row is not None:
            db.delete(row)
