"""A request body: read under the size cap and the memory pool, parsed, hashed, checked against the context."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from worksample.mockllm.profile import ModelSpec
from worksample.mockllm.wire import ApiError, bad_param

MAX_BODY_BYTES = 2 * 1024 * 1024
INVALID = object()  # what `parse` returns for a body that is not JSON
EMPTY_HASH = hashlib.sha256(b"").hexdigest()


class BodyTooLarge(ApiError):
    """413: the body is over the cap; `seen` is what had arrived (for the request hash)."""

    def __init__(self, cap: int, seen: bytes = b"") -> None:
        super().__init__(413, f"Request body too large: the maximum is {cap} bytes.", "invalid_request_error", None, "request_too_large")
        self.seen = seen


async def read_body(scope, receive, cap: int, reserve: Callable[[int], None]) -> bytes:
    """The whole body; `reserve(n)` is called for its bytes before they are held (it raises to refuse).

    With a Content-Length the whole length is reserved before a byte is
    read; chunked bodies reserve chunk by chunk. Raises BodyTooLarge over
    `cap` and ConnectionAbortedError when the client leaves mid-body.
    """
    length = None
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            length = int(value)
    if length is not None and length > cap:
        raise BodyTooLarge(cap)
    if length is not None:
        reserve(length)
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("client went away while sending its body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(cap, b"".join(parts))
        if length is None:
            reserve(len(chunk))
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


def parse(raw: bytes) -> object:
    """The JSON body, or INVALID (not UTF-8, not JSON, NaN/Infinity, nested past the parser)."""
    try:
        # Decode ourselves: json.loads would also accept UTF-16/32 bodies.
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return INVALID


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def canonical_hash(body: object, raw: bytes) -> str:
    """sha256 of the canonical body (sorted keys, compact), or of the raw bytes if not JSON."""
    if body is INVALID:
        return hashlib.sha256(raw).hexdigest()
    try:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:  # nested deeper than the encoder goes: the raw bytes will do
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(canonical.encode()).hexdigest()


def not_json() -> ApiError:
    """The real API's 400 for a body that is not JSON."""
    return ApiError(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "invalid_request_error")


def check_context(spec: ModelSpec, prompt: int, max_tokens: int | None) -> None:
    """400 context_length_exceeded when prompt (plus max_tokens) does not fit the model."""
    window = spec.context_window
    if prompt > window:
        raise bad_param("messages", f"This model's maximum context length is {window} tokens. However, your messages resulted in {prompt} tokens. Please reduce the length of the messages.", "context_length_exceeded")
    if max_tokens and prompt + max_tokens > window:
        raise bad_param("messages", f"This model's maximum context length is {window} tokens. However, you requested {prompt + max_tokens} tokens ({prompt} in the messages, {max_tokens} in the completion). Please reduce the length of the messages or completion.", "context_length_exceeded")
