"""The oracle interface: a task's `oracle.py` decides what the models answer.

A task's hidden `oracle.py` defines::

    def make_oracle(ctx: OracleContext) -> Callable[[OracleRequest], OracleAnswer]: ...

The mock calls `make_oracle` once at start-up and the returned callable once
per chat completion that gets past auth, validation, limits and transport
faults. The oracle only decides content; the mock applies max_tokens
truncation, token counting, cost and content faults afterwards. With no
oracle file the deterministic default in `default_oracle` is used.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


class OracleLoadError(Exception):
    """The oracle file cannot be imported or has no usable `make_oracle`."""


@dataclass(frozen=True)
class OracleContext:
    """What an oracle may know about the run, given once at start-up."""

    task_dir: Path | None  # folder holding oracle.py (hidden task files, e.g. grader/data/, readable)
    seed: int
    models: tuple[str, ...]  # chat model ids in profile order (cheapest first by convention)


@dataclass(frozen=True)
class OracleRequest:
    """One chat completion request, as the oracle sees it."""

    model: str
    messages: list[dict]  # {"role", "content": str}: list-form content parts already flattened to text
    response_format: dict | None
    tools: list[dict] | None
    tool_choice: object | None
    max_tokens: int | None  # max_completion_tokens or max_tokens
    index: int  # request index in this server's life
    request_hash: str
    rng: random.Random  # seeded from (seed, attempt, logical hash): the same for a question whatever the arrival order


@dataclass
class OracleAnswer:
    """The oracle's answer: text, or tool calls, or both."""

    content: str | None = None
    tool_calls: list[dict] | None = None  # [{"name": str, "arguments": dict}]
    latency_factor: float = 1.0  # e.g. a premium model may be slower


Oracle = Callable[[OracleRequest], OracleAnswer]


def load_oracle(path: str | Path | None, ctx: OracleContext) -> Oracle:
    """Import `make_oracle` from `path` (or use the default) and build the oracle.

    Raises OracleLoadError when the file is missing, does not import, or
    `make_oracle` is absent, raises, or does not return a callable.
    """
    if path is None:
        from worksample.mockllm.default_oracle import make_oracle as make_default

        return make_default(ctx)
    path = Path(path).resolve()
    if not path.is_file():
        raise OracleLoadError(f"{path}: no such oracle file")
    spec = importlib.util.spec_from_file_location(f"_worksample_oracle_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise OracleLoadError(f"{path}: cannot import")
    module = importlib.util.module_from_spec(spec)
    # Registered so that dataclasses and pickling inside the oracle can find it.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        factory = getattr(module, "make_oracle", None)
        if not callable(factory):
            raise OracleLoadError(f"{path}: defines no make_oracle(ctx)")
        oracle = factory(ctx)
    except OracleLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure in task code is a load error
        raise OracleLoadError(f"{path}: make_oracle failed: {type(exc).__name__}: {exc}") from exc
    if not callable(oracle):
        raise OracleLoadError(f"{path}: make_oracle(ctx) returned {type(oracle).__name__}, not a callable")
    return oracle


def check_answer(answer: object) -> OracleAnswer:
    """Validate what an oracle returned; raises TypeError/ValueError on a bad shape."""
    if not isinstance(answer, OracleAnswer):
        raise TypeError(f"oracle returned {type(answer).__name__}, not OracleAnswer")
    if answer.content is not None and not isinstance(answer.content, str):
        raise TypeError("OracleAnswer.content must be str or None")
    for call in answer.tool_calls or []:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError("each tool call needs a str name")
        if not isinstance(call.get("arguments", {}), (dict, str)):
            raise ValueError("tool call arguments must be a dict")
    factor = answer.latency_factor
    if not isinstance(factor, (int, float)) or not 0 <= factor <= 100:
        raise ValueError("latency_factor must be a number in [0, 100]")
    return answer
