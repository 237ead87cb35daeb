"""Token counting with a real BPE vocabulary (cl100k_base), shipped offline.

`bpe-openai` wheels bundle OpenAI's vocabularies, so the mock counts tokens
the way the real API does, with no download at run time. cl100k_base rather
than o200k_base: counts differ by a few percent on English, but it loads in
half the time and takes 34 MiB less, and the mock runs in every candidate's
pod (measured in the mockllm image: 0.035 s / 44 MiB RSS vs 0.068 s / 78 MiB). The same counter is used for limits, usage and cost. Chat prompts are
counted with the usual chat framing: 3 tokens per message plus role, name and
content, plus 3 to prime the reply, plus the JSON of tools and schemas.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import threading
from functools import lru_cache
from pathlib import Path

ENCODING = "cl100k_base"
PER_MESSAGE = 3
REPLY_PRIMING = 3

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer():
    # Load the Rust extension alone, without running bpe_openai/__init__.py:
    # that wrapper parses every bundled vocabulary into Python dicts at import
    # (0.5 s, +65 MB) and warns about a deprecated importlib API.
    with _lock:
        spec = importlib.util.find_spec("bpe_openai")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("bpe-openai is not installed (see sandbox_images/mockllm/requirements.txt)")
        folder = Path(next(iter(spec.submodule_search_locations)))
        path = next(iter(sorted(folder.glob("_bindings*.so")) + sorted(folder.glob("_bindings*.pyd"))), None)
        if path is None:
            raise RuntimeError(f"bpe-openai in {folder} has no compiled backend")
        loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", str(path))
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location("bpe_openai._bindings", path, loader=loader))
        loader.exec_module(module)
        return module.tokenizer_for_encoding(ENCODING)


def warm_up() -> None:
    """Load the vocabulary now (about half a second) rather than on the first request."""
    _tokenizer()


def count(text: str) -> int:
    """Number of tokens in `text`."""
    if not text:
        return 0
    return _tokenizer().count(text)


def encode(text: str) -> list[int]:
    """Token ids of `text`."""
    return _tokenizer().encode(text) if text else []


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` that is at most `max_tokens` tokens."""
    ids = encode(text)
    if len(ids) <= max_tokens:
        return text
    tok = _tokenizer()
    # A cut can split a multi-byte character; step back until it decodes.
    for end in range(max(max_tokens, 0), max(max_tokens - 4, -1), -1):
        try:
            return tok.decode(ids[:end])
        except Exception:  # noqa: BLE001 - the backend raises on invalid UTF-8
            continue
    return ""


def count_messages(messages: list[dict], tools: list | None = None, schema: dict | None = None) -> int:
    """Prompt tokens of a chat request: framed messages plus tool and schema JSON."""
    total = REPLY_PRIMING
    for message in messages:
        total += PER_MESSAGE + count(str(message.get("role", "")))
        total += count(message.get("content") or "")
        if message.get("name"):
            total += 1 + count(str(message["name"]))
        if message.get("tool_calls"):
            total += count(json.dumps(message["tool_calls"], separators=(",", ":")))
    if tools:
        total += count(json.dumps(tools, separators=(",", ":")))
    if schema:
        total += count(json.dumps(schema, separators=(",", ":")))
    return total
