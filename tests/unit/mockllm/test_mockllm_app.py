"""The ASGI app in-process: determinism, content faults, oracle plug-ins, logs, bad bodies."""

from __future__ import annotations

import json
import random
from functools import partial
from pathlib import Path

import httpx
import pytest

from factories import keeping
from worksample.mockllm.calllog import CALL_FIELDS, CallLog
from worksample.mockllm.default_oracle import make_oracle as default_oracle
from worksample.mockllm.oracle import OracleAnswer, OracleContext, OracleLoadError, OracleRequest, load_oracle
from worksample.mockllm.profile import parse_profile
from worksample.mockllm.server import MockServer

MODELS = [
    {"id": "atlas-mini", "input_per_mtok": 0.15, "output_per_mtok": 0.6, "context_window": 4000},
    {"id": "atlas-embed", "input_per_mtok": 0.02, "output_per_mtok": 0, "kind": "embedding", "dimensions": 64},
]
CONTENT_FAULTS = [
    {"kind": "server_error", "rate": 0.15}, {"kind": "overloaded", "rate": 0.1}, {"kind": "bad_gateway", "rate": 0.05},
    {"kind": "malformed_json", "rate": 0.15}, {"kind": "truncated", "rate": 0.15}, {"kind": "content_filter", "rate": 0.1},
]
AUTH = {"authorization": "Bearer sk-test"}


class App:
    """A MockServer on a temp log, with an httpx client wired to it in-process."""

    def __init__(self, tmp_path: Path, profile: dict | None = None, oracle=None, seed: int | None = None, **kw) -> None:
        self.profile = parse_profile({"models": MODELS, **(profile or {})})
        self.log_path = tmp_path / f"log{random.random()}" / "calls.jsonl"
        ctx = OracleContext(task_dir=None, seed=self.profile.seed, models=tuple(self.profile.model_ids()))
        self.calllog = CallLog(self.log_path)
        self.server = MockServer(self.profile, self.calllog, oracle or default_oracle(ctx), seed=seed, **kw)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.server), base_url="http://mock")

    async def chat(self, body: dict, headers: dict | None = None) -> httpx.Response:
        return await self.client.post("/v1/chat/completions", json=body, headers=AUTH if headers is None else headers)

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def bodies(self) -> list[dict]:
        # splitlines on purpose: also splits at U+2028, so a non-ASCII line would fail here
        return [json.loads(line) for line in self.log_path.with_name("bodies.jsonl").read_text().splitlines()]

    async def close(self) -> None:
        await self.client.aclose()
        self.calllog.close()


@pytest.fixture
async def apps(tmp_path: Path):
    make, made = keeping(partial(App, tmp_path))
    yield make
    for app in made:
        await app.close()


def requests_sequence() -> list[dict]:
    schema = {"type": "object", "properties": {"label": {"type": "string", "enum": ["a", "b"]}, "score": {"type": "integer"}}, "required": ["label", "score"]}
    seq = []
    for i in range(40):
        body: dict = {"model": "atlas-mini", "messages": [{"role": "user", "content": f"ticket {i % 7}: help"}]}
        if i % 3 == 0:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "t", "schema": schema}}
        seq.append(body)
    return seq


async def run_sequence(app: App) -> list[tuple]:
    out = []
    for body in requests_sequence():
        r = await app.chat(body)
        content = r.json()["choices"][0]["message"]["content"] if r.status_code == 200 else r.text
        out.append((r.status_code, content))
    faults = [(c["status"], c["fault"], c["request_hash"], c["completion_tokens"]) for c in app.calls()]
    return list(zip(out, faults))


async def test_same_profile_seed_and_sequence_give_same_faults_and_content(apps) -> None:
    first = await run_sequence(apps({"seed": 11, "faults": CONTENT_FAULTS}))
    second = await run_sequence(apps({"seed": 11, "faults": CONTENT_FAULTS}))
    assert first == second
    kinds = {f[1] for _, f in first}
    assert {"server_error", "malformed_json", "truncated"} <= kinds and None in kinds  # the plan really varies
    other = await run_sequence(apps({"seed": 12, "faults": CONTENT_FAULTS}))
    assert [f[1] for _, f in other] != [f[1] for _, f in first]


async def test_seed_flag_overrides_profile_seed(apps) -> None:
    a = await run_sequence(apps({"seed": 1, "faults": CONTENT_FAULTS}, seed=5))
    b = await run_sequence(apps({"seed": 5, "faults": CONTENT_FAULTS}))
    assert a == b


async def test_json_schema_content_parses_and_fits(apps) -> None:
    app = apps()
    schema = {"type": "object", "properties": {"label": {"type": "string", "enum": ["billing", "bug"]},
              "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}}}, "required": ["label", "tags"],
              "$defs": {"Tag": {"type": "object", "properties": {"name": {"type": "string"}, "weight": {"type": "number", "minimum": 0, "maximum": 1}}}}}
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}],
                        "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": schema}}})
    value = json.loads(r.json()["choices"][0]["message"]["content"])
    assert value["label"] in ("billing", "bug") and value["tags"]
    assert all(0 <= t["weight"] <= 1 and isinstance(t["name"], str) for t in value["tags"])


async def test_tools_give_tool_calls_with_json_arguments(apps) -> None:
    app = apps()
    tools = [{"type": "function", "function": {"name": "lookup_ticket", "parameters": {"type": "object", "properties": {"ticket_id": {"type": "integer"}}, "required": ["ticket_id"]}}}]
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "find 7"}], "tools": tools})
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "lookup_ticket" and call["id"].startswith("call_")
    assert isinstance(json.loads(call["function"]["arguments"])["ticket_id"], int)


async def test_max_tokens_truncates_with_finish_length(apps) -> None:
    app = apps()
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 3})
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] <= 3


async def test_every_content_fault_looks_right(apps) -> None:
    seen = {}
    for kind in ("malformed_json", "truncated", "content_filter"):
        app = apps({"faults": [{"kind": kind, "rate": 1.0}]})
        r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})
        seen[kind] = r.json()["choices"][0]
        assert app.calls()[-1]["fault"] == kind
    with pytest.raises(json.JSONDecodeError):
        json.loads(seen["malformed_json"]["message"]["content"])
    assert seen["truncated"]["finish_reason"] == "length"
    assert seen["content_filter"]["finish_reason"] == "content_filter" and seen["content_filter"]["message"]["content"] == ""


async def test_transport_faults_have_real_shapes(apps) -> None:
    for kind, status, ctype in (("server_error", 500, "application/json"), ("overloaded", 503, "application/json"), ("bad_gateway", 502, "text/html")):
        app = apps({"faults": [{"kind": kind, "rate": 1.0}]})
        r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
        assert r.status_code == status and r.headers["content-type"] == ctype
        if ctype == "application/json":
            assert set(r.json()["error"]) == {"message", "type", "param", "code"}
        assert app.calls()[-1]["fault"] == kind and app.calls()[-1]["cost_usd"] == 0


async def test_malformed_json_does_not_apply_to_plain_text(apps) -> None:
    app = apps({"faults": [{"kind": "malformed_json", "rate": 1.0}]})
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 200 and app.calls()[-1]["fault"] is None


class TaskOracle:
    """A task-style oracle: the premium model knows the label, the cheap one guesses."""

    def __init__(self, ctx: OracleContext) -> None:
        self.ctx = ctx
        self.seen: list[OracleRequest] = []

    def __call__(self, req: OracleRequest) -> OracleAnswer:
        self.seen.append(req)
        if "boom" in req.messages[-1]["content"]:
            raise RuntimeError("oracle bug")
        good = req.model == self.ctx.models[-1]
        return OracleAnswer(content="billing" if good else req.rng.choice(["billing", "bug"]), latency_factor=2.0)


async def test_oracle_sees_flattened_messages_and_decides_content(apps) -> None:
    profile = parse_profile({"models": [MODELS[0], {**MODELS[0], "id": "atlas-pro"}]})
    oracle = TaskOracle(OracleContext(task_dir=None, seed=0, models=tuple(profile.model_ids())))
    app = apps({"models": [MODELS[0], {**MODELS[0], "id": "atlas-pro"}]}, oracle=oracle)
    r = await app.chat({"model": "atlas-pro", "max_tokens": 50, "messages": [{"role": "user", "content": [{"type": "text", "text": "classify"}, {"type": "text", "text": "this"}]}]})
    assert r.json()["choices"][0]["message"]["content"] == "billing"
    req = oracle.seen[0]
    assert req.messages[0]["content"] == "classify\nthis" and req.max_tokens == 50 and req.index == 0
    assert req.request_hash == app.calls()[0]["request_hash"]


async def test_oracle_error_is_a_logged_500_and_server_survives(apps) -> None:
    oracle = TaskOracle(OracleContext(task_dir=None, seed=0, models=("atlas-mini",)))
    app = apps(oracle=oracle)
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "boom"}]})
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
    assert app.calls()[-1]["fault"] == "oracle_error"
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "fine"}]})
    assert r.status_code == 200


def test_load_oracle_from_task_file(tmp_path: Path) -> None:
    path = tmp_path / "oracle.py"
    path.write_text(
        "from worksample.mockllm.oracle import OracleAnswer\n"
        "def make_oracle(ctx):\n"
        "    data = (ctx.task_dir / 'label.txt').read_text()\n"
        "    return lambda req: OracleAnswer(content=data + ':' + req.model)\n"
    )
    (tmp_path / "label.txt").write_text("billing")
    oracle = load_oracle(path, OracleContext(task_dir=tmp_path, seed=1, models=("m",)))
    req = OracleRequest("m", [], None, None, None, None, 0, "h", random.Random(0))
    assert oracle(req).content == "billing:m"
    (tmp_path / "bad.py").write_text("x = 1\n")
    with pytest.raises(OracleLoadError, match="no make_oracle"):
        load_oracle(tmp_path / "bad.py", OracleContext(None, 0, ()))


async def test_client_errors(apps) -> None:
    app = apps()
    msg = [{"role": "user", "content": "x"}]
    cases = [
        ({"model": "atlas-mini", "messages": msg}, {}, 401, "invalid_api_key", None),
        ({"model": "gpt-9", "messages": msg}, AUTH, 404, "model_not_found", "model"),
        ({"model": "atlas-mini", "messages": [{"role": "user", "content": "word " * 5000}]}, AUTH, 400, "context_length_exceeded", "messages"),
        ({"model": "atlas-mini"}, AUTH, 400, "missing_required_parameter", "messages"),
        ({"model": "atlas-mini", "messages": [{"role": "robot", "content": "x"}]}, AUTH, 400, "invalid_value", "messages[0].role"),
        ({"model": "atlas-mini", "messages": msg, "temperature": 9}, AUTH, 400, "invalid_value", "temperature"),
        ({"model": "atlas-mini", "messages": msg, "max_tokens": "ten"}, AUTH, 400, "invalid_type", "max_tokens"),
        ({"model": "atlas-embed", "messages": msg}, AUTH, 404, None, "model"),
    ]
    for body, headers, status, code, param in cases:
        r = await app.chat(body, headers)
        assert r.status_code == status, body
        err = r.json()["error"]
        assert (err["code"], err["param"]) == (code, param), err
        assert "x-ratelimit-limit-requests" in r.headers and r.headers["x-request-id"].startswith("req_")
    assert [c["status"] for c in app.calls()] == [case[2] for case in cases]


async def test_garbage_never_crashes_or_corrupts_the_log(apps) -> None:
    app = apps(max_body_bytes=1000)
    junk = [b"\xff\xfe\x00garbage", b'{"model": NaN}', b"[1,2,3]", b'"just a string"', b"{" * 5000,
            b'{"model": "atlas-mini", "messages": [{"role": "user", "content": "line\\nbreak\\u2028"}]}\n', b"x" * 2000, b""]
    for raw in junk:
        r = await app.client.post("/v1/chat/completions", content=raw, headers=AUTH)
        assert r.status_code in (200, 400, 413), raw[:20]
        assert "error" in r.json() or r.status_code == 200
    r = await app.client.post("/v1/nowhere", content=b"{}", headers=AUTH)
    assert r.status_code == 404 and "Invalid URL" in r.json()["error"]["message"]
    calls = app.calls()
    assert len(calls) == len(junk) + 1
    assert all(list(c) == list(CALL_FIELDS) for c in calls)
    assert [c["status"] for c in calls][-3:] == [413, 400, 404]
    bodies = app.bodies()  # every line parses; request ids match the call log
    assert {b["request_id"] for b in bodies} <= {c["request_id"] for c in calls}


async def test_bodies_are_capped(apps) -> None:
    app = apps()
    big = "y" * (100 * 1024)
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": big}]})
    assert r.status_code == 400  # also over the 4000-token window
    body = app.bodies()[-1]
    assert body["truncated"] is True and len(body["body"]) == 64 * 1024


async def test_budget_then_insufficient_quota_without_retry_after(apps) -> None:
    app = apps({"budget_usd": 0.0000001})
    first = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
    assert first.status_code == 200
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota"
    assert "retry-after" not in r.headers
    assert app.calls()[-1]["fault"] == "insufficient_quota"


async def test_rate_limit_429_shape(apps) -> None:
    app = apps({"rate_limits": {"rpm": 1, "tpm": 100000}})
    assert (await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})).status_code == 200
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["type"] == "requests" and err["code"] == "rate_limit_exceeded"
    assert "Limit 1, Used 1, Requested 1. Please try again in " in err["message"]
    assert int(r.headers["retry-after"]) >= 1 and 59000 <= int(r.headers["retry-after-ms"]) <= 60000
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    assert app.calls()[-1]["retry_after_s"] == pytest.approx(int(r.headers["retry-after-ms"]) / 1000)


async def test_request_too_large_never_fits(apps) -> None:
    app = apps({"rate_limits": {"rpm": 100, "tpm": 50}})
    body = {"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}], "max_tokens": 100}
    for _ in range(2):
        r = await app.chat(body)
        assert r.status_code == 429 and r.json()["error"]["message"].startswith("Request too large")
    assert app.calls()[-1]["fault"] == "request_too_large"


async def test_outage_window(apps) -> None:
    app = apps({"incidents": [{"kind": "outage", "start_s": 0, "duration_s": 60}]})
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 503 and app.calls()[-1]["fault"] == "outage"


async def test_embeddings_deterministic_and_similar(apps) -> None:
    app = apps()
    r = await app.client.post("/v1/embeddings", json={"model": "atlas-embed", "input": ["refund my invoice", "refund my invoice please", "kernel panic"]}, headers=AUTH)
    vecs = [d["embedding"] for d in r.json()["data"]]
    assert len(vecs[0]) == 64

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b))

    assert cos(vecs[0], vecs[1]) > cos(vecs[0], vecs[2])
    again = await app.client.post("/v1/embeddings", json={"model": "atlas-embed", "input": "refund my invoice"}, headers=AUTH)
    assert again.json()["data"][0]["embedding"] == vecs[0]
    assert r.json()["usage"]["prompt_tokens"] > 0


async def test_streaming_events_end_with_usage_and_done(apps) -> None:
    app = apps()
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}], "stream": True, "stream_options": {"include_usage": True}})
    events = [line[6:] for line in r.text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    usage = json.loads(events[-2])
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == app.calls()[-1]["completion_tokens"]
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-2])
    assert text and json.loads(events[-3])["choices"][0]["finish_reason"] == "stop"


async def test_stream_error_event(apps) -> None:
    app = apps({"faults": [{"kind": "stream_error", "rate": 1.0}]})
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}], "stream": True})
    assert r.status_code == 200 and "[DONE]" not in r.text
    last = r.text.strip().split("\n\n")[-1]
    assert json.loads(last[6:])["error"]["type"] == "server_error"
    # the same fault drawn by a non-streaming request does nothing
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 200 and app.calls()[-1]["fault"] is None


async def test_rate_limit_storm_window(apps) -> None:
    app = apps({"rate_limits": {"rpm": 1000, "tpm": 1000000},
                "incidents": [{"kind": "rate_limit_storm", "start_s": 0, "duration_s": 60, "rpm": 1}]})
    ok = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "x"}]})
    assert ok.headers["x-ratelimit-limit-requests"] == "1"
    r = await app.chat({"model": "atlas-mini", "messages": [{"role": "user", "content": "y"}]})
    assert r.status_code == 429 and "Limit 1, Used 1, Requested 1" in r.json()["error"]["message"]
    assert app.calls()[-1]["fault"] == "rate_limit" and app.calls()[-1]["retry_after_s"] > 1


async def test_deeply_nested_body_is_a_400_not_a_crash(apps) -> None:
    app = apps()
    for depth in (900, 100_000):
        raw = b'{"a":' * depth + b"1" + b"}" * depth
        r = await app.client.post("/v1/chat/completions", content=raw, headers=AUTH)
        assert r.status_code == 400
    assert all(c["status"] == 400 and c["fault"] is None for c in app.calls())
