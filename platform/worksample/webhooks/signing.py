"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

The secret is shown to the admin as `whsec_<base64 of 32 random bytes>`; the
HMAC key is the decoded bytes, as the Standard Webhooks libraries expect, so a
receiver can verify with any of them. `verify` is what a receiver runs (tests
and the bench use it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64
TOLERANCE_S = 300  # a receiver refuses timestamps further than this from its clock (replays)


class SignatureError(ValueError):
    """A webhook request whose headers do not verify; the message says which part failed."""


def new_secret() -> str:
    """A fresh signing secret, `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise SignatureError("secret: must start with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The `webhook-signature` header value for one request."""
    payload = body.encode() if isinstance(body, str) else body
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, msg_id: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for a request sent now (or at `timestamp`)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sign(secret, msg_id, ts, body)}


def verify(secret: str, request_headers: dict[str, str], body: bytes, now: float | None = None,
           tolerance_s: int = TOLERANCE_S) -> str:
    """Check a received request; return its webhook-id, or raise SignatureError naming what failed.

    `request_headers` keys are matched case-insensitively. Any one `v1,` signature
    in the space-separated list may match (secret rotation sends two).
    """
    lower = {k.lower(): v for k, v in request_headers.items()}
    msg_id, ts_text, sigs = (lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not ts_text or not sigs:
        raise SignatureError("headers: webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        ts = int(ts_text)
    except ValueError:
        raise SignatureError("webhook-timestamp: not an integer") from None
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        raise SignatureError("webhook-timestamp: outside the tolerance (replayed or clock skew)")
    expected = sign(secret, msg_id, ts, body)
    if not any(hmac.compare_digest(expected, s) for s in sigs.split(" ") if s.startswith("v1,")):
        raise SignatureError("webhook-signature: no v1 signature matches")
    return msg_id
