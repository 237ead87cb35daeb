"""What a run sent to the model, as text: for checks on prompts (personal data, which records were sent).

`body_text` is everything a request carried, in any field (a nonce, `user`,
`metadata` included); `message_text` is what the model reads (messages'
content and embedding input); `words` is the tokenisation matching uses, so
case, punctuation and spacing do not matter. Bodies are candidate-controlled
and already size-capped by the mock and the run-folder readers.
"""

from __future__ import annotations

import json
import re

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-case word tokens of `text`."""
    return _WORD.findall(text.lower())


def body_text(body: object) -> str:
    """The whole request body as text (JSON for objects; a body the mock cut is already text)."""
    if isinstance(body, str):
        return body
    return json.dumps(body, ensure_ascii=False)


def message_text(body: object) -> str:
    """The text the model reads: every message's content (parts joined) and any embedding input."""
    if not isinstance(body, dict):
        return str(body)
    parts = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else message
        parts.append(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
    if body.get("input") is not None:
        parts.append(json.dumps(body["input"], ensure_ascii=False))
    return "\n".join(parts)
