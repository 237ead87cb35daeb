"""Who is calling: the bearer key, its hash for the log, and the check against the accepted keys."""

from __future__ import annotations

import hashlib

from worksample.mockllm.wire import ApiError


def bearer(scope) -> str | None:
    """The bearer key of the request's Authorization header, or None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            if text[:7].lower() == "bearer ":
                return text[7:].strip() or None
            return None
    return None


def key_hash(key: str | None) -> str | None:
    """What the log keeps of a key: the first 16 hex digits of its sha256."""
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else None


def authenticate(key: str | None, accepted: frozenset[str]) -> None:
    """Raise the real API's 401 unless `key` is given and (when keys are configured) accepted."""
    if not key:
        raise ApiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", None, "invalid_api_key")
    if accepted and key not in accepted:
        shown = key[:3] + "*" * 8 + key[-4:] if len(key) > 8 else "*" * len(key)
        raise ApiError(401, f"Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", None, "invalid_api_key")


def authorised(key: str | None, accepted: frozenset[str]) -> bool:
    """True when `key` would pass `authenticate`."""
    return bool(key) and (not accepted or key in accepted)
