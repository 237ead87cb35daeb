"""Billing: what a delivered answer costs, charged as it goes out.

`charge` is called with the completion tokens delivered so far (all of
them for a whole answer, the prefix sent for a stream) and only ever adds
the difference, so a stream billed chunk by chunk and a client hanging up
after any chunk both pay for exactly what they received. Spend goes to the
organisation's budget; completion tokens beyond what max_tokens already
reserved go to the key's token buckets.
"""

from __future__ import annotations

import time

from worksample.mockllm.admission import Gate
from worksample.mockllm.exchange import Exchange
from worksample.mockllm.limits import cost_usd
from worksample.mockllm.profile import ModelSpec


def charge(gate: Gate, ex: Exchange, spec: ModelSpec, storm, completion_tokens: int, *, settle: bool = False) -> None:
    """Bill `ex` for its prompt and `completion_tokens` delivered so far.

    Only grows, except with `settle`: the exact count once the stream has
    stopped replaces the running estimate, and spend above it is given back
    (tokens already taken from the buckets stay taken).
    """
    if ex.billed and completion_tokens == ex.completion_tokens:
        return
    if ex.billed and completion_tokens < ex.completion_tokens and not settle:
        return
    before = max(ex.completion_tokens - ex.reserved_tokens, 0) if ex.billed else 0
    cost = cost_usd(ex.prompt_tokens, completion_tokens, spec.input_per_mtok, spec.output_per_mtok)
    gate.budget.spend(cost - ex.cost_usd)
    extra = max(completion_tokens - ex.reserved_tokens, 0) - before
    if extra > 0:
        gate.key_limits(ex.key_hash).charge_tokens(extra, time.monotonic(), storm)
        ex.charged_tokens = (ex.charged_tokens or 0) + extra
    ex.completion_tokens, ex.cost_usd, ex.billed = completion_tokens, cost, True
