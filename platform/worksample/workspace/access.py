"""Who may touch an attempt: the signed attempt cookie, and the limit on guessing invite tokens.

The candidate holds one cookie, `ws_attempt` = `<attempt_id>.<hmac>`, signed with
the platform secret. It names one attempt and grants nothing else: staff routes
read a different cookie, and the Jupyter token never leaves the server.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque

from worksample.config import get_settings

ATTEMPT_COOKIE = "ws_attempt"
COOKIE_MAX_AGE = 6 * 3600  # longer than any attempt (2 h cap plus extensions)


def _sign(purpose: str, value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def attempt_cookie_value(attempt_id: str) -> str:
    """The cookie value that proves the holder started `attempt_id`."""
    return f"{attempt_id}.{_sign('attempt-cookie', attempt_id)}"


def cookie_attempt_id(value: str | None) -> str | None:
    """The attempt a cookie value grants, or None if absent or forged."""
    if not value or "." not in value:
        return None
    attempt_id, sig = value.rsplit(".", 1)
    return attempt_id if hmac.compare_digest(sig, _sign("attempt-cookie", attempt_id)) else None


def check_host(attempt_id: str, host: str | None) -> None:
    """Raise AttemptElsewhere when the attempt is pinned to another host than this one (None: here, pre-w17)."""
    from worksample.workspace import AttemptElsewhere

    here = get_settings().host_name
    if host is not None and host != here:
        raise AttemptElsewhere(
            f"attempt {attempt_id} runs on host {host!r}; this API is host {here!r} and cannot reach its "
            f"workspace: the front proxy must send /w/{attempt_id}/ to {host!r} (docs/scaling.md, several API hosts)")


def attempt_api_key(attempt_id: str) -> str:
    """The attempt's key for the mock LLM: stable across the attempt's pods, unguessable."""
    return "sk-ws-" + _sign("mock-key", attempt_id)[:40]


def cookie_kwargs(secure: bool) -> dict:
    """Set-cookie options: HttpOnly, SameSite=Strict, Secure over https."""
    return {"key": ATTEMPT_COOKIE, "httponly": True, "samesite": "strict", "secure": secure,
            "max_age": COOKIE_MAX_AGE, "path": "/"}


class GuessLimiter:
    """Counts failed token lookups per client; after `limit` in `window` seconds the client waits.

    In-process: with several API replicas each counts its own share, which still
    makes guessing 192-bit tokens hopeless; the point is to stop a hammering client.
    """

    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        fails = self._fails.setdefault(client, deque())
        while fails and fails[0] <= now - self.window:
            fails.popleft()
        return fails

    def blocked(self, client: str) -> float:
        """Seconds `client` must wait before trying again (0 when it may)."""
        now = time.monotonic()
        with self._lock:
            fails = self._recent(client, now)
            if len(fails) < self.limit:
                return 0.0
            return max(1.0, fails[0] + self.window - now)

    def failed(self, client: str) -> None:
        """Record one failed lookup by `client`."""
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._fails) > 100_000:  # bound memory under a spray of addresses
                self._fails.clear()


guess_limiter = GuessLimiter()
