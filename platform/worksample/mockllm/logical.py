"""`logical_hash`: the question a request asks, whatever else the client put in its body.

Two requests with the same logical hash are the same question asked twice
(a retry, or a duplicate paid call), even when the client adds a nonce. The
rule is the grading SDK's (`graders/worksample_grader/logical.py`, which
cannot be imported here: the mock image ships only this package); a unit
test checks that both give the same hash. sha256 of the canonical JSON of:
model, messages as role + content (strings with whitespace runs collapsed,
content parts joined by their text), tools, response_format and embedding
input, strings collapsed everywhere, nesting cut at 32 levels. Everything
else (`user`, `seed`, `metadata`, `temperature`, `stream`, `max_tokens`, ...)
is ignored.
"""

from __future__ import annotations

import hashlib
import json

LOGICAL_FIELDS = ("model", "messages", "tools", "response_format", "input")
DEPTH_CAP = 32


def _collapse(text: str) -> str:
    # str.split() splits on exactly what `\s` matches in a str pattern (str.isspace), twice as fast.
    return " ".join(text.split())


def _content(content: object) -> object:
    if isinstance(content, str):
        return _collapse(content)
    if isinstance(content, list):
        parts = [p.get("text") if isinstance(p, dict) else p for p in content]
        return _collapse(" ".join(str(p) for p in parts if p is not None))
    return content


def _normal(value: object, depth: int = 0) -> object:
    if depth > DEPTH_CAP:
        return repr(value)[:200]
    if isinstance(value, str):
        return _collapse(value)
    if isinstance(value, dict):
        return {str(k): _normal(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v, depth + 1) for v in value]
    return value


def logical_request(body: object) -> object:
    """The normalised question of a parsed body (a dict for JSON objects, else collapsed text)."""
    if not isinstance(body, dict):
        return _collapse(str(body))
    out: dict[str, object] = {}
    for name in LOGICAL_FIELDS:
        if body.get(name) is None:
            continue
        if name == "messages" and isinstance(body[name], list):
            out[name] = [{"role": m.get("role"), "content": _content(m.get("content"))} if isinstance(m, dict)
                         else _normal(m) for m in body[name]]
        else:
            out[name] = _normal(body[name])
    return out


def logical_hash(body: object) -> str:
    """sha256 (hex) of the canonical JSON of `logical_request(body)`."""
    canonical = json.dumps(logical_request(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest()
