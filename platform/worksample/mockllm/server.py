"""The mock LLM API as a bare ASGI application.

No framework: every request pays only for what it needs, which keeps the
mock's own overhead well under the latencies it injects. `MockServer.__call__`
routes; `_post` runs the checks in the order the real API does (size, auth,
body, model, context, quota, outage, rate limits, injected faults) and then
answers. Every request ends in exactly one call-log line, written before the
response's last byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass

from worksample.mockllm import tokens
from worksample.mockllm.admission import MAX_REQUEST_BYTES, Admission, parsed_cost
from worksample.mockllm.calllog import LOG_FULL_STATUS, CallLog, LogFull, log_full_message
from worksample.mockllm.chat import compose
from worksample.mockllm.embeddings import embed, encode_base64
from worksample.mockllm.limits import Budget, KeyLimits, Refusal, cost_usd
from worksample.mockllm.oracle import Oracle, OracleRequest, check_answer
from worksample.mockllm.plan import FaultPlan, rng_for
from worksample.mockllm.profile import ModelSpec, Profile
from worksample.mockllm.state import EXIT_MEMORY, MemoryGuard, MockState
from worksample.mockllm.responses import Responder, abort_connection, client_closed, pause
from worksample.mockllm.validation import ChatRequest, chat_request, embedding_request
from worksample.mockllm.wire import ApiError, bad_param

log = logging.getLogger("worksample.mockllm")
MAX_BODY_BYTES = 2 * 1024 * 1024
# Without --api-key every key is accepted and gets its own buckets; bound how
# many are remembered so a client inventing keys cannot grow memory forever.
MAX_KEYS = 10_000
CHAT_PATH = "/v1/chat/completions"
EMBED_PATH = "/v1/embeddings"


@dataclass(slots=True)
class Exchange:
    """One request's state, from arrival to its call-log line."""

    ts: float
    t0: float
    index: int
    in_flight: int
    request_id: str = ""
    key: str | None = None
    key_hash: str | None = None
    model: str | None = None
    request_hash: str = ""
    status: int = 0
    fault: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retry_after_s: float | None = None
    reserved_tokens: int = 0  # completion tokens charged up front (max_tokens)
    reserved_bytes: int = 0  # memory reserved from the admission pool until the request ends
    stream: bool = False
    billed: bool = False  # prompt and completion_tokens are charged (cost_usd so far)
    logged: bool = False
    receive: object = None


class MockServer:
    """The ASGI app: state shared by all requests (limits, budget, counters, log)."""

    def __init__(self, profile: Profile, calllog: CallLog, oracle: Oracle, *, seed: int | None = None,
                 api_keys: tuple[str, ...] = (), max_body_bytes: int = MAX_BODY_BYTES,
                 memory_limit: int | None = None) -> None:
        self.profile = profile
        self.seed = profile.seed if seed is None else seed
        self.plan = FaultPlan(profile, self.seed)
        self.calllog = calllog
        self.oracle = oracle
        self.keys = frozenset(api_keys)
        self.max_body_bytes = max_body_bytes
        self.models: dict[str, ModelSpec] = {m.id: m for m in profile.models}
        self.limits: dict[str, KeyLimits] = {}
        self.budget = Budget(profile.budget_usd)
        self.started = time.monotonic()
        self.index = 0
        self.admission = Admission()
        self.state = MockState(calllog.calls_path.parent)
        self.guard = MemoryGuard(memory_limit)
        self.out = Responder(self)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":  # readiness probe: not an API call, not logged
            await self.out.raw(send, 200, b'{"ok":true}')
            return
        if not self.calllog.admits():  # fail safe: no answer without its log line
            self.calllog.refuse()
            await self.out.log_full(send)
            return
        memory, rss = self.guard.level()
        if memory == "exit":  # stop cleanly, saying why, before the kernel's OOM killer does it silently
            log.error("mockllm: resident memory %d MiB is at the limit: stopping (exit %d)", rss // 1024**2, EXIT_MEMORY)
            self.state.stopped("memory", EXIT_MEMORY)
            self.calllog.close()
            os._exit(EXIT_MEMORY)
        busy = memory == "shed" or self.admission.full()
        if memory == "shed":
            self.state.pressure(self.admission.refused + 1, rss)
        self.admission.in_flight += 1
        ex = Exchange(ts=time.time(), t0=time.monotonic(), index=self.index, in_flight=self.admission.in_flight, receive=receive)
        self.index += 1
        ex.request_id = "req_" + hashlib.sha256(f"{self.seed}:{ex.index}:{ex.ts}".encode()).hexdigest()[:32]
        try:
            if busy:
                raise self._busy(ex)
            await self._route(ex, scope, receive, send)
        except ApiError as err:
            await self.out.error(ex, send, err)
        except ConnectionAbortedError:  # the client closed the request before sending all of it
            client_closed(ex)
        except Exception:  # noqa: BLE001 - nothing a client sends may take the server down
            log.exception("mockllm: internal error on request %s", ex.request_id)
            if ex.logged:  # the response has started: all we can do is drop it
                abort_connection(send)
            else:
                await self.out.error(ex, send, ApiError(500, "The server had an error while processing your request. Sorry about that!", "server_error", fault="internal_error"))
        finally:
            self.admission.in_flight -= 1
            self.admission.release(ex.reserved_bytes)
            if not ex.logged:  # a client that vanished mid-answer still gets its line
                self.log_call(ex)

    async def _route(self, ex: Exchange, scope, receive, send) -> None:
        method, path = scope["method"], scope["path"]
        ex.key = _bearer(scope)
        ex.key_hash = hashlib.sha256(ex.key.encode()).hexdigest()[:16] if ex.key else None
        if method == "POST" and path in (CHAT_PATH, EMBED_PATH):
            await self._post(ex, path, scope, receive, send)
            return
        ex.request_hash = hashlib.sha256(f"{method} {path}".encode()).hexdigest()
        if method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
            self._authenticate(ex)
            await self.out.models(ex, send, path.removeprefix("/v1/models").lstrip("/"))
            return
        raise ApiError(404, f"Invalid URL ({method} {path[:200]})", "invalid_request_error")

    async def _read_body(self, ex: Exchange, scope, receive) -> bytes:
        """The whole body, its bytes reserved from the admission pool as they come (413 over the cap)."""
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit():
                length = int(value)
        if length is not None and length > self.max_body_bytes:
            ex.request_hash = hashlib.sha256(b"").hexdigest()
            raise _too_large(self.max_body_bytes)
        if length is not None:
            self._reserve(ex, length)  # before reading a byte: the body fits or is refused
        parts, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionAbortedError("client went away while sending its body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                ex.request_hash = hashlib.sha256(b"".join(parts)).hexdigest()
                raise _too_large(self.max_body_bytes)
            if length is None:
                self._reserve(ex, len(chunk))
            parts.append(chunk)
            if not message.get("more_body"):
                return b"".join(parts)

    def _reserve(self, ex: Exchange, nbytes: int) -> None:
        """Reserve memory for `ex` until it ends, or refuse it (503 server_busy)."""
        if not self.admission.reserve(nbytes):
            if not ex.request_hash:
                ex.request_hash = hashlib.sha256(b"").hexdigest()
            raise self._busy(ex)
        ex.reserved_bytes += nbytes

    def _busy(self, ex: Exchange) -> ApiError:
        self.admission.refused += 1
        return ApiError(503, "The server is busy: too many requests or too much request data in flight at once. "
                        "Please retry after a short wait.", "server_error", None, "server_busy",
                        fault="server_busy", retry_after_s=1.0)

    def _authenticate(self, ex: Exchange) -> None:
        if not ex.key:
            raise ApiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", None, "invalid_api_key")
        if self.keys and ex.key not in self.keys:
            shown = ex.key[:3] + "*" * 8 + ex.key[-4:] if len(ex.key) > 8 else "*" * len(ex.key)
            raise ApiError(401, f"Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", None, "invalid_api_key")

    async def _post(self, ex: Exchange, path: str, scope, receive, send) -> None:
        raw = await self._read_body(ex, scope, receive)
        body = _parse(raw)
        ex.request_hash = _canonical_hash(body, raw)
        try:
            self.calllog.write_body(ex.request_id, raw, body)
        except LogFull:
            raise ApiError(LOG_FULL_STATUS, log_full_message(self.calllog.cap), "server_error", None, "log_full",
                           fault="log_full") from None
        del raw  # held from here on: the parsed body, reserved below
        self._authenticate(ex)
        if body is _INVALID:
            raise ApiError(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "invalid_request_error")
        cost = parsed_cost(body)
        if cost > MAX_REQUEST_BYTES:
            raise ApiError(413, "Request body too complex: it holds too many JSON values.", "invalid_request_error", None, "request_too_large")
        self._reserve(ex, cost)
        chat = path == CHAT_PATH
        req = chat_request(body) if chat else embedding_request(body)
        del body  # only the validated request is kept while the answer is prepared
        ex.model = req.model[:200]  # a client's string: keep log lines bounded
        spec = self._model(req.model, chat)
        if chat:
            ex.prompt_tokens = tokens.count_messages(req.messages, req.tools, req.response_format)
            _check_context(spec, ex.prompt_tokens, req.max_tokens)
        else:
            ex.prompt_tokens = sum(tokens.count(s) for s in req.inputs)
            if max(tokens.count(s) for s in req.inputs) > spec.context_window:
                raise bad_param("input", f"This model's maximum context length is {spec.context_window} tokens, however you requested more. Please reduce your prompt.", "context_length_exceeded")
        ex.reserved_tokens = (req.max_tokens or 0) if chat else 0
        ex.stream = chat and req.stream
        storm = self._admit(ex, req.model, ex.prompt_tokens + ex.reserved_tokens)
        draw = self.plan.draw(ex.index, ex.request_hash, chat=chat, stream=chat and req.stream)
        ex.fault = draw.fault
        if await self.out.transport_fault(ex, send, draw):
            return
        if chat:
            await self._chat(ex, req, spec, draw, storm, send)
        else:
            await self._embeddings(ex, req, spec, draw, storm, send)

    def _model(self, model_id: str, chat: bool) -> ModelSpec:
        spec = self.models.get(model_id)
        if spec is None:
            raise ApiError(404, f"The model `{model_id[:200]}` does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found")
        if chat and spec.kind != "chat":
            raise ApiError(404, "This is not a chat model and thus not supported in the v1/chat/completions endpoint.", "invalid_request_error", "model", None)
        if not chat and spec.kind != "embedding":
            raise ApiError(400, f"The model `{model_id}` does not support embeddings.", "invalid_request_error", "model", None)
        return spec

    def _admit(self, ex: Exchange, model: str, requested_tokens: int):
        """Quota, outage and rate limits, in that order; returns the storm in force."""
        if self.budget.exhausted():
            raise ApiError(429, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.", "insufficient_quota", None, "insufficient_quota", fault="insufficient_quota")
        elapsed = time.monotonic() - self.started
        if self.plan.incident(elapsed, "outage") is not None:
            raise ApiError(503, "The server is overloaded or not ready yet.", "server_error", None, None, fault="outage")
        storm = self.plan.incident(elapsed, "rate_limit_storm")
        limits = self.key_limits(ex.key)
        refusal = limits.admit(requested_tokens, time.monotonic(), storm)
        if refusal is not None:
            raise _rate_limited(refusal, model)
        # Like the real API, max_tokens counts against the limit when the request is admitted.
        limits.charge_tokens(requested_tokens, time.monotonic(), storm)
        return storm

    def key_limits(self, key: str | None) -> KeyLimits:
        """The buckets of `key`, created full on first use."""
        k = key or ""
        limits = self.limits.get(k)
        if limits is None:
            if len(self.limits) >= MAX_KEYS:
                del self.limits[next(iter(self.limits))]  # forget the oldest key
            limits = self.limits[k] = KeyLimits(self.profile.rate_limits, time.monotonic())
        return limits

    def storm_now(self):
        """The rate-limit storm in force now, if any."""
        return self.plan.incident(time.monotonic() - self.started, "rate_limit_storm")

    async def _chat(self, ex: Exchange, req: ChatRequest, spec: ModelSpec, draw, storm, send) -> None:
        oracle_req = OracleRequest(
            model=req.model, messages=req.messages, response_format=req.response_format, tools=req.tools,
            tool_choice=req.tool_choice, max_tokens=req.max_tokens, index=ex.index, request_hash=ex.request_hash,
            rng=rng_for(self.seed, ex.index, ex.request_hash, "oracle"),
        )
        try:
            answer = check_answer(self.oracle(oracle_req))
        except Exception as exc:  # noqa: BLE001 - task code; the server keeps running
            log.exception("mockllm: oracle failed on request %s", ex.request_id)
            raise ApiError(500, "The server had an error while processing your request. Sorry about that!", "server_error", fault="oracle_error") from exc
        reply = compose(req, answer, draw.fault if draw.fault in ("malformed_json", "truncated", "content_filter") else None,
                        rng_for(self.seed, ex.index, ex.request_hash, "content"))
        if draw.fault in ("malformed_json", "truncated", "content_filter"):
            ex.fault = reply.fault
        latency = draw.latency_s * answer.latency_factor
        if req.stream:
            await self.out.stream(ex, send, req, reply, latency, charge=lambda n: self.charge(ex, spec, storm, n))
        elif await pause(latency, ex.receive):
            self.charge(ex, spec, storm, reply.completion_tokens)
            await self.out.completion(ex, send, req, reply)
        else:
            client_closed(ex)

    async def _embeddings(self, ex: Exchange, req, spec: ModelSpec, draw, storm, send) -> None:
        dims = min(req.dimensions or spec.dimensions, spec.dimensions)
        data = []
        for i, text in enumerate(req.inputs):
            vec = embed(text, dims)
            data.append({"object": "embedding", "index": i, "embedding": encode_base64(vec) if req.encoding_format == "base64" else vec})
        if not await pause(draw.latency_s, ex.receive):
            client_closed(ex)
            return
        self.charge(ex, spec, storm, 0)
        await self.out.embeddings(ex, send, req.model, data)

    def charge(self, ex: Exchange, spec: ModelSpec, storm, completion_tokens: int) -> None:
        """Bill `ex` for its prompt and `completion_tokens` delivered so far: the difference to what it
        was already billed goes to the budget, tokens beyond max_tokens to the buckets. Never shrinks."""
        if ex.billed and completion_tokens <= ex.completion_tokens:
            return
        before = max(ex.completion_tokens - ex.reserved_tokens, 0) if ex.billed else 0
        cost = cost_usd(ex.prompt_tokens, completion_tokens, spec.input_per_mtok, spec.output_per_mtok)
        self.budget.spend(cost - ex.cost_usd)
        extra = max(completion_tokens - ex.reserved_tokens, 0) - before
        if extra > 0:
            self.key_limits(ex.key).charge_tokens(extra, time.monotonic(), storm)
        ex.completion_tokens, ex.cost_usd, ex.billed = completion_tokens, cost, True

    def log_call(self, ex: Exchange) -> bool:
        """Write the call-log line of `ex` (once); False if the log is full and it could not be written,
        in which case the caller must not deliver the answer."""
        if ex.logged:
            return True
        ex.logged = True
        try:
            self._write_line(ex)
        except LogFull:
            self.calllog.refuse()
            return False
        return True

    def _write_line(self, ex: Exchange) -> None:
        self.calllog.write_call({
            "ts": round(ex.ts, 6), "request_id": ex.request_id, "key_hash": ex.key_hash, "model": ex.model,
            "status": ex.status, "fault": ex.fault, "prompt_tokens": ex.prompt_tokens,
            "completion_tokens": ex.completion_tokens, "cost_usd": ex.cost_usd,
            "latency_ms": round((time.monotonic() - ex.t0) * 1000, 3), "retry_after_s": ex.retry_after_s,
            "request_hash": ex.request_hash, "in_flight": ex.in_flight,
        })


_INVALID = object()


def _parse(raw: bytes) -> object:
    try:
        # Decode ourselves: json.loads would also accept UTF-16/32 bodies.
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _INVALID


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _canonical_hash(body: object, raw: bytes) -> str:
    """sha256 of the canonical body (sorted keys, compact), or of the raw bytes if not JSON."""
    if body is _INVALID:
        return hashlib.sha256(raw).hexdigest()
    try:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:  # nested deeper than the encoder goes: the raw bytes will do
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(canonical.encode()).hexdigest()


def _bearer(scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            if text[:7].lower() == "bearer ":
                return text[7:].strip() or None
            return None
    return None


def _check_context(spec: ModelSpec, prompt: int, max_tokens: int | None) -> None:
    window = spec.context_window
    if prompt > window:
        raise bad_param("messages", f"This model's maximum context length is {window} tokens. However, your messages resulted in {prompt} tokens. Please reduce the length of the messages.", "context_length_exceeded")
    if max_tokens and prompt + max_tokens > window:
        raise bad_param("messages", f"This model's maximum context length is {window} tokens. However, you requested {prompt + max_tokens} tokens ({prompt} in the messages, {max_tokens} in the completion). Please reduce the length of the messages or completion.", "context_length_exceeded")


def _too_large(cap: int) -> ApiError:
    return ApiError(413, f"Request body too large: the maximum is {cap} bytes.", "invalid_request_error", None, "request_too_large")


def _rate_limited(refusal: Refusal, model: str) -> ApiError:
    if math.isinf(refusal.wait_s):
        return ApiError(429, f"Request too large for {model} in organization org-mock on tokens per min (TPM): Limit {refusal.limit}, Requested {refusal.requested}. The input or output tokens must be reduced in order to run successfully.", "tokens", None, "rate_limit_exceeded", fault="request_too_large")
    wait = refusal.wait_s
    shown = f"{math.ceil(wait * 1000)}ms" if wait < 1 else f"{math.ceil(wait * 1000) / 1000:g}s"
    return ApiError(
        429,
        f"Rate limit reached for {model} in organization org-mock on {refusal.dimension} per min ({refusal.window}): Limit {refusal.limit}, Used {refusal.used}, Requested {refusal.requested}. Please try again in {shown}. Visit https://platform.openai.com/account/rate-limits to learn more.",
        refusal.dimension, None, "rate_limit_exceeded", fault="rate_limit", retry_after_s=math.ceil(wait * 1000) / 1000,
    )


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
