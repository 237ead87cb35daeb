"""The mock LLM API as a bare ASGI application: routing, and the order of the checks.

No framework: every request pays only for what it needs, which keeps the
mock's own overhead well under the latencies it injects. `MockServer.__call__`
routes; `_post` runs the checks in the order the real API does (size, auth,
body, model, context, quota, outage, rate limits, injected faults) and then
answers. Every request ends in exactly one call-log line, written before the
response's last byte. The pieces live beside it: `auth` (who is calling),
`admission` (memory, concurrency, quota, outage, rate limits), `requestbody`
(reading, parsing, hashing), `billing` (charging what was delivered),
`exchange` + `calllog` (the log line and the files), `responses` (the wire),
`recovery` + `state` (a restart keeps the run's history).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time

from worksample.mockllm import billing, tokens
from worksample.mockllm.admission import MAX_REQUEST_BYTES, Admission, Gate, busy, parsed_cost, too_complex
from worksample.mockllm.auth import authenticate, bearer, key_hash
from worksample.mockllm.calllog import LOG_FULL_STATUS, CallLog, LogFull, log_full_message
from worksample.mockllm.chat import compose, wants_json
from worksample.mockllm.embeddings import embed, encode_base64
from worksample.mockllm.exchange import Exchange, call_record
from worksample.mockllm.limits import Budget
from worksample.mockllm.oracle import Oracle, OracleRequest, check_answer
from worksample.mockllm.plan import DEFAULT_STALL_S, Attempts, Draw, FaultPlan, Schedule, applies, rng_for
from worksample.mockllm.profile import ModelSpec, Profile
from worksample.mockllm.recovery import recover
from worksample.mockllm.requestbody import (
    EMPTY_HASH, INVALID, MAX_BODY_BYTES, BodyTooLarge, canonical_hash, check_context, not_json, parse, read_body,
)
from worksample.mockllm.responses import Responder, abort_connection, client_closed, pause
from worksample.mockllm.state import EXIT_MEMORY, MemoryGuard, MockState
from worksample.mockllm.validation import ChatRequest, chat_request, embedding_request
from worksample.mockllm.wire import ApiError, bad_param
from worksample_grader.logical import logical_hash  # the grading SDK's rule; the image ships it

log = logging.getLogger("worksample.mockllm")
CHAT_PATH = "/v1/chat/completions"
EMBED_PATH = "/v1/embeddings"
__all__ = ["CHAT_PATH", "EMBED_PATH", "MAX_BODY_BYTES", "Exchange", "MockServer"]


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
        self.state = MockState(calllog.calls_path.parent)
        self.gate = Gate(profile.rate_limits, self.plan, Budget(profile.budget_usd), self.state.started)
        self.admission = Admission()
        self.guard = MemoryGuard(memory_limit)
        self.out = Responder(self)
        # A mock restarted on the same log dir carries on: spend, indices, rate limits.
        past = recover(calllog.calls_path, calllog.cap)
        self.index, self.paid = past.requests, past.paid
        self.attempts = Attempts()  # faults are keyed by (question, attempt), not by arrival order
        ranked = []  # (question, rank, ts) of the past first attempts
        for question, ts in zip(past.questions, past.question_ts):
            _, rank = self.attempts.next(question)
            if rank is not None:
                ranked.append((question, rank, ts))
        self.schedule = Schedule(profile, done_before=self.attempts.distinct)
        for question, rank, ts in ranked:
            self._ranked(question, rank, ts)
        for fault in profile.scheduled_faults:  # a scheduled outage running when the last mock stopped goes on
            if fault.kind == "outage" and fault.at in past.outages:
                self.schedule.start_outage(fault, past.outages[fault.at])
        self.gate.budget.spend(past.spent_usd)
        for k_hash, ts, charged in past.admitted:
            self.gate.replay(k_hash, ts, charged)

    # Kept for the Responder: the buckets shown in x-ratelimit-* headers.
    def key_limits(self, key: str | None):
        """The buckets of `key`."""
        return self.gate.key_limits(key_hash(key))

    def storm_now(self):
        """The rate-limit storm in force now, if any."""
        return self.gate.storm_now()

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
        refuse = memory == "shed" or self.admission.full()
        if memory == "shed":
            self.state.pressure(self.admission.refused + 1, rss)
        self.admission.in_flight += 1
        ex = Exchange(ts=time.time(), t0=time.monotonic(), index=self.index, in_flight=self.admission.in_flight, receive=receive)
        self.index += 1
        ex.request_id = "req_" + hashlib.sha256(f"{self.seed}:{ex.index}:{ex.ts}".encode()).hexdigest()[:32]
        try:
            if refuse:
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
        ex.key = bearer(scope)
        ex.key_hash = key_hash(ex.key)
        if method == "POST" and path in (CHAT_PATH, EMBED_PATH):
            await self._post(ex, path, scope, receive, send)
            return
        ex.request_hash = hashlib.sha256(f"{method} {path}".encode()).hexdigest()
        if method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
            authenticate(ex.key, self.keys)
            await self.out.models(ex, send, path.removeprefix("/v1/models").lstrip("/"))
            return
        raise ApiError(404, f"Invalid URL ({method} {path[:200]})", "invalid_request_error")

    def _reserve(self, ex: Exchange, nbytes: int) -> None:
        """Reserve memory for `ex` until it ends, or refuse it (503 server_busy)."""
        if not self.admission.reserve(nbytes):
            raise self._busy(ex)
        ex.reserved_bytes += nbytes

    def _busy(self, ex: Exchange) -> ApiError:
        self.admission.refused += 1
        if not ex.request_hash:
            ex.request_hash = EMPTY_HASH
        return busy()

    async def _post(self, ex: Exchange, path: str, scope, receive, send) -> None:
        try:
            raw = await read_body(scope, receive, self.max_body_bytes, lambda n: self._reserve(ex, n))
        except BodyTooLarge as err:
            ex.request_hash = hashlib.sha256(err.seen).hexdigest()
            raise
        body = parse(raw)
        ex.request_hash = canonical_hash(body, raw)
        ex.logical_hash = _logical_hash(body, raw, ex.request_hash)
        try:
            self.calllog.write_body(ex.request_id, raw, body)
        except LogFull:
            raise ApiError(LOG_FULL_STATUS, log_full_message(self.calllog.cap), "server_error", None, "log_full",
                           fault="log_full") from None
        del raw  # held from here on: the parsed body, reserved below
        authenticate(ex.key, self.keys)
        if body is INVALID:
            raise not_json()
        cost = parsed_cost(body)
        if cost > MAX_REQUEST_BYTES:
            raise too_complex()
        self._reserve(ex, cost)
        chat = path == CHAT_PATH
        req = chat_request(body) if chat else embedding_request(body)
        del body  # only the validated request is kept while the answer is prepared
        ex.model = req.model[:200]  # a client's string: keep log lines bounded
        spec = self._model(req.model, chat)
        if chat:
            ex.prompt_tokens = tokens.count_messages(req.messages, req.tools, req.response_format)
            check_context(spec, ex.prompt_tokens, req.max_tokens)
        else:
            ex.prompt_tokens = sum(tokens.count(s) for s in req.inputs)
            if max(tokens.count(s) for s in req.inputs) > spec.context_window:
                raise bad_param("input", f"This model's maximum context length is {spec.context_window} tokens, however you requested more. Please reduce your prompt.", "context_length_exceeded")
        ex.reserved_tokens = (req.max_tokens or 0) if chat else 0
        ex.stream = chat and req.stream
        self._hold(ex, req.model)
        storm = self.gate.admit(ex.key_hash, req.model, ex.prompt_tokens + ex.reserved_tokens)
        ex.charged_tokens = ex.prompt_tokens + ex.reserved_tokens
        ex.paid_index, self.paid = self.paid, self.paid + 1
        ex.attempt, ex.rank = self.attempts.next(ex.question)
        if ex.rank is not None:
            self._ranked(ex.question, ex.rank, ex.ts)
        draw = self._draw(ex, req, chat)
        ex.fault = draw.fault
        if await self.out.transport_fault(ex, send, draw):
            return
        if chat:
            await self._chat(ex, req, spec, draw, storm, send)
        else:
            await self._embeddings(ex, req, spec, draw, storm, send)

    def _ranked(self, question: str, rank: int, ts: float) -> None:
        """The first attempt of `question` got `rank` at unix time `ts`: per-question outages and rank-opened incidents."""
        self.schedule.note(question, rank)
        self.plan.open_at(rank, self.gate.elapsed(ts))

    def _draw(self, ex: Exchange, req, chat: bool) -> Draw:
        """The fault and latency of a paid request: a scheduled outage (wall-clock or of this question), else a
        scheduled fault (first attempts only), else the random draw of (question, attempt)."""
        question = ex.question
        draw = self.plan.draw(ex.attempt, question, chat=chat, stream=ex.stream)
        now = time.time()
        # A rank-opened outage incident opens at this very question (the gate admitted it just before).
        if (self.schedule.outage(now) or self.schedule.down(question, ex.attempt)
                or self.plan.incident(self.gate.elapsed(now), "outage") is not None):
            raise ApiError(503, "The server is overloaded or not ready yet.", "server_error", None, None, fault="outage")
        if ex.rank is None:  # a retry or a repeat: scheduled faults are for new questions
            return draw
        if ex.attempt == 0:
            held = self.schedule.share_hold(self.seed, question)
            if held is not None:  # a question chosen by its hash: which ones never depends on arrival order
                self.schedule.hold(question, now, held)
                raise _rate_limited(req.model, held)
        fault = self.schedule.take(ex.rank, lambda kind: applies(
            kind, chat=chat, stream=ex.stream, wants_json=chat and (wants_json(req) or bool(req.tools))))
        if fault is None:
            return draw
        if fault.kind == "rate_limited":
            wait = fault.retry_after_s or 1.0
            if fault.until_waited:
                self.schedule.hold(question, now, wait)
            raise _rate_limited(req.model, wait)
        if fault.kind == "bad_request":
            raise ApiError(400, "Invalid request: the model could not process this input. Please check the request and do not retry it unchanged.",
                           "invalid_request_error", None, "invalid_request", fault="bad_request")
        if fault.kind == "outage":
            self.schedule.start_outage(fault, now)
            raise ApiError(503, "The server is overloaded or not ready yet.", "server_error", None, None, fault="outage")
        return Draw(fault.kind, draw.latency_s, fault.stall_s or DEFAULT_STALL_S)

    def _hold(self, ex: Exchange, model: str) -> None:
        """Refuse a retry that came before the retry-after of its question's until_waited 429, with a fresh one.

        Before the rate limits and the fault draw: it is no attempt of its question, so however often a
        client retries too early, the answer it finally gets is the same.
        """
        question = ex.question
        wait = self.schedule.holding(question, ex.ts)
        if wait is not None:
            self.schedule.hold(question, ex.ts, wait)
            raise _rate_limited(model, wait)

    def _rng(self, ex: Exchange, purpose: str):
        """The seeded rng of this (question, attempt) for `purpose`: the same whatever the arrival order."""
        return rng_for(self.seed, ex.attempt or 0, ex.question, purpose)

    def _model(self, model_id: str, chat: bool) -> ModelSpec:
        spec = self.models.get(model_id)
        if spec is None:
            raise ApiError(404, f"The model `{model_id[:200]}` does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found")
        if chat and spec.kind != "chat":
            raise ApiError(404, "This is not a chat model and thus not supported in the v1/chat/completions endpoint.", "invalid_request_error", "model", None)
        if not chat and spec.kind != "embedding":
            raise ApiError(400, f"The model `{model_id}` does not support embeddings.", "invalid_request_error", "model", None)
        return spec

    async def _chat(self, ex: Exchange, req: ChatRequest, spec: ModelSpec, draw, storm, send) -> None:
        oracle_req = OracleRequest(
            model=req.model, messages=req.messages, response_format=req.response_format, tools=req.tools,
            tool_choice=req.tool_choice, max_tokens=req.max_tokens, index=ex.index, request_hash=ex.request_hash,
            # The question alone decides the answer, not the attempt: whichever of its attempts gets through
            # (that can depend on which thread arrived first, or how often a client retried) says the same.
            rng=rng_for(self.seed, 0, ex.question, "oracle"),
        )
        try:
            answer = check_answer(self.oracle(oracle_req))
        except Exception as exc:  # noqa: BLE001 - task code; the server keeps running
            log.exception("mockllm: oracle failed on request %s", ex.request_id)
            raise ApiError(500, "The server had an error while processing your request. Sorry about that!", "server_error", fault="oracle_error") from exc
        reply = compose(req, answer, draw.fault if draw.fault in ("malformed_json", "truncated", "content_filter") else None,
                        self._rng(ex, "content"))
        if draw.fault in ("malformed_json", "truncated", "content_filter"):
            ex.fault = reply.fault
        latency = draw.latency_s * answer.latency_factor
        if req.stream:
            await self.out.stream(ex, send, req, reply, latency, charge=lambda n, settle=False: billing.charge(self.gate, ex, spec, storm, n, settle=settle))
        elif await pause(latency, ex.receive):
            billing.charge(self.gate, ex, spec, storm, reply.completion_tokens)
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
        billing.charge(self.gate, ex, spec, storm, 0)
        await self.out.embeddings(ex, send, req.model, data)

    def log_call(self, ex: Exchange) -> bool:
        """Write the call-log line of `ex` (once); False if the log is full and it could not be written,
        in which case the caller must not deliver the answer."""
        if ex.logged:
            return True
        ex.logged = True
        try:
            self.calllog.write_call(call_record(ex))
        except LogFull:
            self.calllog.refuse()
            return False
        return True


def _rate_limited(model: str, wait: float) -> ApiError:
    """A scheduled 429 with retry-after `wait` seconds."""
    return ApiError(429, f"Rate limit reached for {model[:200]} in organization org-mock on requests per min (RPM). "
                    f"Please try again in {wait:g}s. Visit https://platform.openai.com/account/rate-limits to learn more.",
                    "requests", None, "rate_limit_exceeded", fault="rate_limit", retry_after_s=wait)


def _logical_hash(body: object, raw: bytes, request_hash: str) -> str:
    """The logical hash of a body (of its text when it is not JSON; the request hash if it cannot be normalised)."""
    try:
        return logical_hash(raw.decode("utf-8", "replace") if body is INVALID else body)
    except (RecursionError, ValueError, TypeError):
        return request_hash


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
