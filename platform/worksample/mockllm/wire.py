"""What goes on the wire: error bodies, headers, completion and chunk objects.

Shapes, messages and codes follow the real API so that the official SDK maps
them to the same exception classes and candidates' handling code is tested
against something that looks like production.
"""

from __future__ import annotations

import json
import math

_DUMP = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
JSON_TYPE = (b"content-type", b"application/json")
SSE_TYPE = (b"content-type", b"text/event-stream; charset=utf-8")
HTML_TYPE = (b"content-type", b"text/html")

BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def dumps(obj: object) -> bytes:
    """Compact UTF-8 JSON."""
    return _DUMP(obj).encode()


class ApiError(Exception):
    """An error response: status, body fields, and whether it is a rate limit."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        *,
        fault: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.fault = fault
        self.retry_after_s = retry_after_s

    def body(self) -> bytes:
        """The JSON error body."""
        return dumps({"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}})


def bad_param(param: str, message: str, code: str = "invalid_value") -> ApiError:
    """A 400 naming the offending parameter."""
    return ApiError(400, message, "invalid_request_error", param, code)


def format_duration(seconds: float) -> str:
    """The real API's compact durations: '20ms', '1.2s', '6m0s'."""
    if seconds < 1:
        return f"{max(int(math.ceil(seconds * 1000)), 0)}ms"
    if seconds < 60:
        return f"{math.ceil(seconds * 1000) / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    minutes, rest = divmod(int(math.ceil(seconds)), 60)
    if minutes >= 60:
        return f"{minutes // 60}h{minutes % 60}m{rest}s"
    return f"{minutes}m{rest}s"


def rate_limit_headers(view: dict[str, tuple[int, int, float]]) -> list[tuple[bytes, bytes]]:
    """The six x-ratelimit-* headers from (limit, remaining, reset) per dimension.

    A server without limits reports generous fixed values, so the headers are
    on every response as with the real API.
    """
    out = []
    for dim, default in (("requests", (10_000, 10_000, 0.0)), ("tokens", (10_000_000, 10_000_000, 0.0))):
        limit, remaining, reset = view.get(dim, default)
        d = dim.encode()
        out.append((b"x-ratelimit-limit-" + d, str(limit).encode()))
        out.append((b"x-ratelimit-remaining-" + d, str(remaining).encode()))
        out.append((b"x-ratelimit-reset-" + d, format_duration(reset).encode()))
    return out


def retry_headers(seconds: float) -> list[tuple[bytes, bytes]]:
    """retry-after (whole seconds, at least 1) and retry-after-ms (exact)."""
    return [
        (b"retry-after", str(max(int(math.ceil(seconds)), 1)).encode()),
        (b"retry-after-ms", str(max(int(math.ceil(seconds * 1000)), 1)).encode()),
    ]


def usage(prompt: int, completion: int) -> dict:
    """The usage object of a completion."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        },
    }


def tool_call_objects(calls: list[tuple[str, str, str]]) -> list[dict]:
    """[(id, name, arguments JSON)] as message tool_calls."""
    return [{"id": cid, "type": "function", "function": {"name": name, "arguments": args}} for cid, name, args in calls]


def completion(cid: str, created: int, model: str, content: str | None, calls: list, finish: str, use: dict) -> bytes:
    """A whole chat.completion object."""
    message: dict = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
    if calls:
        message["tool_calls"] = tool_call_objects(calls)
    return dumps({
        "id": cid, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": use, "service_tier": "default", "system_fingerprint": "fp_mock",
    })


def sse(obj: object) -> bytes:
    """One server-sent event carrying JSON."""
    return b"data: " + dumps(obj) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


def chunk(cid: str, created: int, model: str, delta: dict, finish: str | None, with_usage: bool) -> bytes:
    """One chat.completion.chunk event (usage null on content chunks, as the real API does)."""
    obj: dict = {
        "id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
        "service_tier": "default", "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if with_usage:
        obj["usage"] = None
    return sse(obj)


def usage_chunk(cid: str, created: int, model: str, use: dict) -> bytes:
    """The final chunk with empty choices and the usage (stream_options.include_usage)."""
    return sse({
        "id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
        "service_tier": "default", "system_fingerprint": "fp_mock", "choices": [], "usage": use,
    })


def split_text(text: str, size: int = 12) -> list[str]:
    """Split text into stream pieces of about `size` characters at word ends."""
    pieces, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        space = text.find(" ", end)
        end = len(text) if space == -1 or space - end > size else space + 1
        pieces.append(text[start:end])
        start = end
    return pieces
