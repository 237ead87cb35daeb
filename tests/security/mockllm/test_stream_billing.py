"""Issue 11.1: hanging up a stream must not make the answer free.

A real mock process, a real HTTP client that reads the SSE stream and closes
the connection at a chosen point. What the client received is billed and
logged with it.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from worksample.mockllm import tokens

AUTH = {"authorization": "Bearer sk-test"}
# Paced streams: 600 ms spread over the events, so the client can leave between them.
PACED = {"latency": {"p50_ms": 600, "p95_ms": 600}}
PRO = {"input_per_mtok": 2.5, "output_per_mtok": 10.0}
BODY = {"model": "atlas-pro", "stream": True,
        "messages": [{"role": "user", "content": "Summarise our refund policy for a customer in a few sentences."}]}

pytestmark = pytest.mark.timeout(60)


def _read_until(server, stop) -> tuple[str, list[dict]]:
    """Stream BODY, collecting content, and hang up as soon as stop(chunk) is true."""
    content, chunks = "", []
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", server.base_url + "/chat/completions", json=BODY, headers=AUTH) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[6:])
                chunks.append(chunk)
                for choice in chunk.get("choices", []):
                    content += choice["delta"].get("content") or ""
                if stop(chunk):
                    break  # leaving the block closes the connection before [DONE]
    return content, chunks


def _last_line(server) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        calls = server.calls()
        if calls:
            return calls[-1]
        time.sleep(0.05)
    raise AssertionError("no call-log line")


def _cost(prompt: int, completion: int) -> float:
    return round((prompt * PRO["input_per_mtok"] + completion * PRO["output_per_mtok"]) / 1_000_000, 9)


def test_hanging_up_after_the_finish_chunk_pays_for_the_whole_answer(mock) -> None:
    server = mock(PACED)
    content, _ = _read_until(server, lambda c: any(ch.get("finish_reason") for ch in c.get("choices", [])))
    assert content  # the client has the whole answer
    line = _last_line(server)
    assert line["completion_tokens"] == tokens.count(content) > 0
    assert line["cost_usd"] == _cost(line["prompt_tokens"], line["completion_tokens"]) > 0


def test_hanging_up_mid_answer_pays_for_what_was_received(mock) -> None:
    server = mock(PACED)
    content, _ = _read_until(server, lambda c: len(c.get("choices", [{}])[0].get("delta", {}).get("content") or "") > 0
                             and c["choices"][0]["delta"]["content"].endswith(" "))
    line = _last_line(server)
    assert line["status"] == 499
    # Billed for at least what the client holds (the mock charges an event before sending it).
    assert line["completion_tokens"] >= tokens.count(content) > 0
    assert line["cost_usd"] == _cost(line["prompt_tokens"], line["completion_tokens"]) > 0


def test_hung_up_streams_exhaust_the_budget(mock) -> None:
    """The reference's exploit: the dearest model for every request at no cost. The budget must stop it."""
    server = mock({**PACED, "budget_usd": 0.001})
    statuses = []
    for _ in range(12):
        with httpx.Client(timeout=10) as client:
            with client.stream("POST", server.base_url + "/chat/completions", json=BODY, headers=AUTH) as r:
                statuses.append(r.status_code)
                for line in r.iter_lines():
                    if '"finish_reason":"' in line:
                        break
    spent = sum(c["cost_usd"] for c in server.calls())
    assert 429 in statuses, (statuses, spent)
    assert server.calls()[-1]["fault"] == "insufficient_quota"
