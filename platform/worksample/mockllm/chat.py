"""Turn an oracle's answer into the reply the mock sends.

The oracle decides content; this module applies what the API itself would
do to it: tool call ids and JSON arguments, max_tokens truncation with
`finish_reason: length`, token counts, and the content faults
(`malformed_json`, `truncated`, `content_filter`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from worksample.mockllm import tokens
from worksample.mockllm.oracle import OracleAnswer
from worksample.mockllm.validation import ChatRequest

# The real API counts a few framing tokens per tool call.
TOOL_CALL_OVERHEAD = 7


@dataclass
class Reply:
    """What one chat completion answers."""

    content: str | None
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, arguments JSON)
    finish: str = "stop"
    completion_tokens: int = 0
    fault: str | None = None  # the content fault that actually applied


def wants_json(req: ChatRequest) -> bool:
    """True when the request asks for JSON content (json_object or json_schema)."""
    return bool(req.response_format) and req.response_format.get("type") in ("json_object", "json_schema")


def compose(req: ChatRequest, answer: OracleAnswer, fault: str | None, rng: random.Random) -> Reply:
    """Build the reply: oracle answer, then content fault, then max_tokens."""
    calls = [(f"call_{rng.getrandbits(96):024x}", c["name"], _arguments(c.get("arguments", {}))) for c in answer.tool_calls or []]
    reply = Reply(content=answer.content if answer.content is not None or calls else "", calls=calls)
    if calls:
        reply.finish = "tool_calls"
    reply.fault = _apply_fault(reply, req, fault, rng)
    used = _count(reply)
    if req.max_tokens is not None and used > req.max_tokens:
        _cut(reply, req.max_tokens)
        reply.finish = "length"
        used = _count(reply)
    if reply.content is None and not reply.calls:
        reply.content = ""
    reply.completion_tokens = used
    return reply


def _arguments(args: object) -> str:
    if isinstance(args, str):
        return args
    return json.dumps(args, ensure_ascii=False)


def _count(reply: Reply) -> int:
    total = tokens.count(reply.content or "")
    for _, name, args in reply.calls:
        total += TOOL_CALL_OVERHEAD + tokens.count(name) + tokens.count(args)
    return total


def _apply_fault(reply: Reply, req: ChatRequest, fault: str | None, rng: random.Random) -> str | None:
    if fault == "content_filter":
        reply.content, reply.calls, reply.finish = "", [], "content_filter"
        return fault
    if fault == "truncated":
        total = _count(reply)
        _cut(reply, max(1, int(total * rng.uniform(0.3, 0.8))) if total > 1 else 0)
        reply.finish = "length"
        return fault
    if fault == "malformed_json":
        if reply.calls:
            cid, name, args = reply.calls[0]
            reply.calls[0] = (cid, name, _break_json(args, rng))
            return fault
        if wants_json(req) and reply.content:
            reply.content = _break_json(reply.content, rng)
            return fault
        return None  # nothing JSON was asked for: the fault does not apply
    return None


def _break_json(text: str, rng: random.Random) -> str:
    """Text that is no longer valid JSON, in one of the ways models get it wrong."""
    how = rng.randrange(4)
    if how == 0:
        return "```json\n" + text + "\n```"
    if how == 1:
        return "Sure! Here is the JSON you asked for:\n" + text
    if how == 2:
        return text[: max(1, int(len(text) * rng.uniform(0.4, 0.9)))] if len(text) > 1 else "{"
    return text.rstrip().rstrip("}") + ',\n  "note": "end of answer"'


def _cut(reply: Reply, limit: int) -> None:
    """Keep at most `limit` completion tokens: content first, then tool call arguments."""
    used = tokens.count(reply.content or "")
    if used >= limit:
        reply.content = tokens.truncate(reply.content or "", limit)
        reply.calls = []
        return
    budget = limit - used
    kept = []
    for cid, name, args in reply.calls:
        room = budget - TOOL_CALL_OVERHEAD - tokens.count(name)
        if room <= 0:
            break
        args_cut = tokens.truncate(args, room)
        kept.append((cid, name, args_cut))
        budget -= TOOL_CALL_OVERHEAD + tokens.count(name) + tokens.count(args_cut)
        if args_cut != args:
            break
    reply.calls = kept
