"""Conformance with the pinned official `openai` SDK against a real mock process."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

MSG = [{"role": "user", "content": "Is my invoice refundable?"}]


def client(mock, key: str = "sk-test", **kw) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=mock.base_url, api_key=key, **kw)


def test_plain_completion_usage_and_log(mock) -> None:
    server = mock({"rate_limits": {"rpm": 100, "tpm": 100000}})
    with client(server) as c:
        raw = c.chat.completions.with_raw_response.create(model="atlas-mini", messages=MSG)
        completion = raw.parse()
        headers = raw.headers
    assert completion.choices[0].message.content and completion.choices[0].finish_reason == "stop"
    for name in ("x-request-id", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                 "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"):
        assert name in headers, name
    assert headers["x-ratelimit-limit-requests"] == "100" and headers["x-ratelimit-remaining-requests"] == "99"
    line = server.call(headers["x-request-id"])  # already in the log when the response arrived
    assert line["prompt_tokens"] == completion.usage.prompt_tokens and line["completion_tokens"] == completion.usage.completion_tokens
    expected = (line["prompt_tokens"] * 0.15 + line["completion_tokens"] * 0.6) / 1e6
    assert line["cost_usd"] == pytest.approx(expected) and line["status"] == 200 and line["fault"] is None


def test_error_classes(mock) -> None:
    server = mock({"rate_limits": {"rpm": 3, "tpm": 100000}}, api_keys=("sk-good",))
    with client(server, "sk-wrong") as c, pytest.raises(openai.AuthenticationError) as auth:
        c.chat.completions.create(model="atlas-mini", messages=MSG)
    assert auth.value.code == "invalid_api_key"
    with client(server, "sk-good") as c:
        with pytest.raises(openai.NotFoundError) as nf:
            c.chat.completions.create(model="gpt-nope", messages=MSG)
        assert nf.value.code == "model_not_found" and nf.value.param == "model"
        with pytest.raises(openai.BadRequestError) as ctx:
            c.chat.completions.create(model="atlas-mini", messages=[{"role": "user", "content": "word " * 17000}])
        assert ctx.value.code == "context_length_exceeded" and ctx.value.param == "messages"
        with pytest.raises(openai.BadRequestError) as bad:
            c.chat.completions.create(model="atlas-mini", messages=MSG, temperature=5)
        assert bad.value.param == "temperature"
        c.chat.completions.create(model="atlas-mini", messages=MSG)
        with pytest.raises(openai.RateLimitError) as rl:
            for _ in range(3):
                c.chat.completions.create(model="atlas-mini", messages=MSG)
    assert rl.value.code == "rate_limit_exceeded" and rl.value.type == "requests"
    assert int(rl.value.response.headers["retry-after"]) >= 1 and "retry-after-ms" in rl.value.response.headers
    assert [c["status"] for c in server.calls()] == [401, 404, 400, 400, 200, 200, 200, 429]


@pytest.mark.parametrize("kind", ["server_error", "overloaded", "bad_gateway"])
def test_5xx_are_internal_server_errors(mock, kind: str) -> None:
    server = mock({"faults": [{"kind": kind, "rate": 1.0}]})
    with client(server) as c, pytest.raises(openai.InternalServerError) as err:
        c.chat.completions.create(model="atlas-mini", messages=MSG)
    assert err.value.status_code == {"server_error": 500, "overloaded": 503, "bad_gateway": 502}[kind]


def test_timeout_fault_is_api_timeout_error(mock) -> None:
    server = mock({"faults": [{"kind": "timeout", "rate": 1.0, "stall_s": 5}]})
    with client(server, timeout=0.5) as c, pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model="atlas-mini", messages=MSG)
    line = server.calls()[-1]
    assert line["fault"] == "timeout" and line["status"] == 200 and line["cost_usd"] == 0


def test_reset_fault_is_api_connection_error(mock) -> None:
    server = mock({"faults": [{"kind": "reset", "rate": 1.0}]})
    with client(server) as c, pytest.raises(openai.APIConnectionError) as err:
        c.chat.completions.create(model="atlas-mini", messages=MSG)
    assert not isinstance(err.value, openai.APITimeoutError)
    assert server.calls()[-1]["fault"] == "reset" and server.calls()[-1]["status"] == 0


def test_sdk_retries_wait_at_least_retry_after(mock) -> None:
    # 60000 TPM refills 1000 tokens/s; each request reserves ~30,310 tokens
    # (prompt + max_tokens), so the second must wait ~0.3-0.6 s.
    server = mock({"rate_limits": {"rpm": 1000, "tpm": 60000}})
    with client(server, max_retries=3) as c:
        for i in range(2):
            c.chat.completions.create(model="atlas-pro", messages=[{"role": "user", "content": f"ticket {i}"}], max_tokens=30300)
    calls = server.calls()
    assert [c["status"] for c in calls] == [200, 429, 200]
    limited, retry = calls[1], calls[2]
    assert limited["request_hash"] == retry["request_hash"] and limited["fault"] == "rate_limit"
    assert 0.2 < limited["retry_after_s"] < 1.0
    waited = retry["ts"] - limited["ts"]
    assert waited >= limited["retry_after_s"], (waited, limited)

    from worksample_grader import llmlog

    report = next(iter(llmlog.analyze(llmlog.load(server.log_path)).values()))
    assert report.retry_after.verdict is llmlog.Verdict.PASS and report.retries == 1


def test_sdk_retries_5xx_with_backoff(mock) -> None:
    server = mock({"faults": [{"kind": "server_error", "rate": 1.0}]})
    with client(server, max_retries=2) as c, pytest.raises(openai.InternalServerError):
        c.chat.completions.create(model="atlas-mini", messages=MSG)
    calls = server.calls()
    assert len(calls) == 3 and len({c["request_hash"] for c in calls}) == 1
    from worksample_grader import llmlog

    report = next(iter(llmlog.analyze(llmlog.load(server.log_path)).values()))
    assert report.backoff.evidence == 1 and report.activity.verdict is llmlog.Verdict.FAIL


def test_streaming_parser_reads_stream_and_usage(mock) -> None:
    server = mock({"latency": {"p50_ms": 20, "p95_ms": 40}})
    with client(server) as c:
        stream = c.chat.completions.create(model="atlas-mini", messages=MSG, stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    usage = chunks[-1].usage
    assert text and chunks[-1].choices == [] and usage is not None
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "stop"
    line = server.calls()[-1]
    assert usage.completion_tokens == line["completion_tokens"] and usage.prompt_tokens == line["prompt_tokens"]


def test_stream_tool_calls_accumulate(mock) -> None:
    server = mock()
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"id": {"type": "integer"}, "why": {"type": "string"}}}}}]
    with client(server) as c:
        with c.chat.completions.stream(model="atlas-mini", messages=MSG, tools=tools) as stream:
            for _ in stream:
                pass
            final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup" and isinstance(json.loads(call.function.arguments)["id"], int)


def test_stream_error_event_raises_api_error(mock) -> None:
    server = mock({"faults": [{"kind": "stream_error", "rate": 1.0}]})
    with client(server) as c, pytest.raises(openai.APIError, match="server had an error"):
        for _ in c.chat.completions.create(model="atlas-mini", messages=MSG, stream=True):
            pass


def test_stream_cut_breaks_iteration(mock) -> None:
    server = mock({"faults": [{"kind": "stream_cut", "rate": 1.0}]})
    got = []
    with client(server) as c, pytest.raises((httpx.HTTPError, openai.APIError)):
        for chunk in c.chat.completions.create(model="atlas-mini", messages=MSG, stream=True):
            got.append(chunk)
    assert got, "some chunks arrive before the cut"
    assert server.calls()[-1]["fault"] == "stream_cut"


def test_structured_output_parse_and_embeddings_and_models(mock) -> None:
    from pydantic import BaseModel

    class Triage(BaseModel):
        category: str
        urgent: bool
        priority: int

    server = mock()
    with client(server) as c:
        parsed = c.chat.completions.parse(model="atlas-mini", messages=MSG, response_format=Triage).choices[0].message.parsed
        assert isinstance(parsed, Triage)
        emb = c.embeddings.create(model="atlas-embed", input=["refund", "refund please"])  # the SDK asks for base64
        assert len(emb.data) == 2 and len(emb.data[0].embedding) == 32
        assert abs(sum(x * x for x in emb.data[0].embedding) - 1) < 1e-3
        assert [m.id for m in c.models.list()] == ["atlas-mini", "atlas-pro", "atlas-embed"]
        assert c.models.retrieve("atlas-pro").id == "atlas-pro"


ORACLE = '''
from worksample.mockllm.oracle import OracleAnswer


def make_oracle(ctx):
    labels = dict(line.split("=") for line in (ctx.task_dir / "grader" / "labels.txt").read_text().split())

    def oracle(req):
        ticket = req.messages[-1]["content"]
        label = labels.get(ticket, "unknown") if req.model == ctx.models[-1] else "guess"
        return OracleAnswer(content='{"label": "%s", "seed": %d}' % (label, ctx.seed))

    return oracle
'''


def test_task_oracle_file_decides_content(mock, tmp_path) -> None:
    task = tmp_path / "task"
    (task / "grader").mkdir(parents=True)
    (task / "grader" / "labels.txt").write_text("T1=billing T2=bug")
    (task / "oracle.py").write_text(ORACLE)
    server = mock(extra=("--oracle", str(task / "oracle.py")), seed=9)
    with client(server) as c:
        premium = c.chat.completions.create(model="atlas-pro", messages=[{"role": "user", "content": "T2"}])
        cheap = c.chat.completions.create(model="atlas-mini", messages=[{"role": "user", "content": "T2"}], max_tokens=3)
    assert json.loads(premium.choices[0].message.content) == {"label": "bug", "seed": 9}
    assert cheap.choices[0].finish_reason == "length" and cheap.usage.completion_tokens == 3  # the mock truncates


def test_broken_oracle_file_refuses_to_start(tmp_path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "oracle.py"
    bad.write_text("def make_oracle(ctx):\n    raise ValueError('no data')\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("models:\n  - {id: m, input_per_mtok: 1, output_per_mtok: 1}\n")
    proc = subprocess.run([sys.executable, "-m", "worksample.mockllm", "serve", "--profile", str(profile), "--port", "1",
                           "--log", str(tmp_path / "l" / "calls.jsonl"), "--oracle", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "make_oracle failed: ValueError: no data" in proc.stderr
