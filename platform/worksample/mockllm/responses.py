"""Sending answers: headers on every response, errors, completions, streams, faults.

Every method that ends a response writes the call-log line first (through
`MockServer.log_call`), then sends the last byte: the log is never behind
what a client has seen.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import TYPE_CHECKING

from worksample.mockllm import tokens, wire
from worksample.mockllm.auth import authorised
from worksample.mockllm.calllog import LOG_FULL_STATUS, log_full_message
from worksample.mockllm.chat import TOOL_CALL_OVERHEAD
from worksample.mockllm.wire import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from worksample.mockllm.chat import Reply
    from worksample.mockllm.plan import Draw
    from worksample.mockllm.exchange import Exchange
    from worksample.mockllm.server import MockServer
    from worksample.mockllm.validation import ChatRequest

# Pacing a stream below this many seconds per event is not worth a sleep each.
_MIN_GAP_S = 0.002
_TRANSPORT_ERRORS = {
    "server_error": (500, "The server had an error while processing your request. Sorry about that!"),
    "overloaded": (503, "The engine is currently overloaded, please try again later."),
}


class Responder:
    """Builds and sends responses for one MockServer."""

    def __init__(self, server: MockServer) -> None:
        self.server = server

    def _headers(self, ex: Exchange, content_type: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
        server = self.server
        view: dict = {}
        if authorised(ex.key, server.keys) and server.profile.rate_limits is not None:
            view = server.key_limits(ex.key).headers(time.monotonic(), server.storm_now())
        headers = [content_type, (b"x-request-id", ex.request_id.encode()), (b"openai-version", b"2020-10-01"),
                   (b"openai-processing-ms", str(int((time.monotonic() - ex.t0) * 1000)).encode())]
        headers += wire.rate_limit_headers(view)
        return headers

    async def raw(self, send, status: int, body: bytes) -> None:
        """An unlogged JSON response (the readiness probe)."""
        await send({"type": "http.response.start", "status": status, "headers": [wire.JSON_TYPE]})
        await send({"type": "http.response.body", "body": body})

    async def log_full(self, send) -> None:
        """The refusal of a request that arrives once the log is full (not logged: counted in the marker)."""
        body = ApiError(LOG_FULL_STATUS, log_full_message(self.server.calllog.cap), "server_error", None, "log_full").body()
        await send({"type": "http.response.start", "status": LOG_FULL_STATUS,
                    "headers": [wire.JSON_TYPE, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _finish(self, ex: Exchange, send, status: int, headers: list, body: bytes) -> None:
        ex.status = status
        if not self.server.log_call(ex):  # no room for its line: the answer is not delivered
            await self.log_full(send)
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def error(self, ex: Exchange, send, err: ApiError) -> None:
        """An error body; rate limits add retry-after and retry-after-ms."""
        if err.fault is not None:
            ex.fault = err.fault
        headers = self._headers(ex, wire.JSON_TYPE)
        if err.retry_after_s is not None:
            ex.retry_after_s = err.retry_after_s
            headers += wire.retry_headers(err.retry_after_s)
        await self._finish(ex, send, err.status, headers, err.body())

    async def models(self, ex: Exchange, send, model_id: str) -> None:
        """GET /v1/models and /v1/models/{id}."""
        created = 1_700_000_000
        objs = [{"id": m.id, "object": "model", "created": created, "owned_by": "worksample"} for m in self.server.profile.models]
        if model_id:
            match = [o for o in objs if o["id"] == model_id]
            if not match:
                raise ApiError(404, f"The model `{model_id[:200]}` does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found")
            body = wire.dumps(match[0])
        else:
            body = wire.dumps({"object": "list", "data": objs})
        await self._finish(ex, send, 200, self._headers(ex, wire.JSON_TYPE), body)

    async def transport_fault(self, ex: Exchange, send, draw: Draw) -> bool:
        """Answer with an injected transport fault; False when `draw` has none."""
        fault = draw.fault
        if fault in _TRANSPORT_ERRORS:
            await pause(draw.latency_s)
            status, message = _TRANSPORT_ERRORS[fault]
            await self.error(ex, send, ApiError(status, message, "server_error", None, None))
        elif fault == "bad_gateway":
            await pause(draw.latency_s)
            await self._finish(ex, send, 502, self._headers(ex, wire.HTML_TYPE), wire.BAD_GATEWAY_HTML)
        elif fault == "timeout":
            await self._stall(ex, send, draw)
        elif fault == "reset":
            await pause(draw.latency_s)
            ex.status = 0  # no HTTP response at all
            self.server.log_call(ex)
            await _reset(send, started=False)
        else:
            return False
        return True

    async def _stall(self, ex: Exchange, send, draw: Draw) -> None:
        """Headers go out, then the body never comes until the client gives up."""
        await pause(draw.latency_s)
        ex.status = 200
        if not self.server.log_call(ex):
            await self.log_full(send)
            return
        ctype = wire.SSE_TYPE if ex.stream else wire.JSON_TYPE
        await send({"type": "http.response.start", "status": 200, "headers": self._headers(ex, ctype)})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        try:
            await asyncio.wait_for(_until_disconnect(ex.receive), draw.stall_s)
        except TimeoutError:
            pass
        await _reset(send)

    async def completion(self, ex: Exchange, send, req: ChatRequest, reply: Reply) -> None:
        """A whole chat.completion."""
        body = wire.completion(_completion_id(ex), int(ex.ts), req.model, reply.content, reply.calls, reply.finish,
                               wire.usage(ex.prompt_tokens, ex.completion_tokens))
        await self._finish(ex, send, 200, self._headers(ex, wire.JSON_TYPE), body)

    async def embeddings(self, ex: Exchange, send, model: str, data: list) -> None:
        """An embeddings list."""
        body = wire.dumps({"object": "list", "data": data, "model": model,
                           "usage": {"prompt_tokens": ex.prompt_tokens, "total_tokens": ex.prompt_tokens}})
        await self._finish(ex, send, 200, self._headers(ex, wire.JSON_TYPE), body)

    async def stream(self, ex: Exchange, send, req: ChatRequest, reply: Reply, latency: float, charge) -> None:
        """An SSE stream, paced over `latency`; `charge(tokens)` bills what has gone out.

        Billing follows delivery: once any event has been sent, the prompt and
        the completion tokens sent so far are charged, and the whole answer
        once its finish chunk has gone out (a client hanging up before
        `[DONE]` has had the answer: it pays for it). `stream_cut` drops the
        connection midway, `stream_error` ends with an error event; both are
        billed for the part sent. A client that leaves is logged as 499 with
        what it was billed.
        """
        events = _stream_events(ex, req, reply)
        fault = ex.fault
        if fault in ("stream_cut", "stream_error"):
            events = events[: max(1, len(events) // 2)]  # the role chunk and some content
        if not await pause(latency * 0.3, ex.receive):  # time to first token
            client_closed(ex)
            return
        ex.status = 200
        await send({"type": "http.response.start", "status": 200,
                    "headers": self._headers(ex, wire.SSE_TYPE) + [(b"cache-control", b"no-cache")]})
        gap = latency * 0.7 / max(len(events), 1)
        if gap >= _MIN_GAP_S:
            held = 0
            for i, (event, _, framing, text) in enumerate(events[:-1]):
                # Charge before the bytes go out, so a client cannot take them and leave unbilled:
                # a running count of the pieces (linear), settled exactly when the stream stops.
                held += framing + tokens.count(text)
                charge(min(held, reply.completion_tokens))
                await send({"type": "http.response.body", "body": event, "more_body": True})
                if not await pause(gap, ex.receive):
                    charge(delivered_tokens(reply, events[i][1]), settle=True)
                    client_closed(ex)
                    return
            events = events[-1:]
        charge(delivered_tokens(reply, events[-1][1]), settle=True)
        body = b"".join(event[0] for event in events)
        if not self.server.log_call(ex):  # no room for its line: the rest is not delivered
            await _reset(send)
            return
        if fault == "stream_cut":
            await send({"type": "http.response.body", "body": body, "more_body": True})
            await _reset(send)
            return
        if fault == "stream_error":
            body += wire.sse({"error": {"message": "The server had an error while processing your request. Sorry about that!",
                                        "type": "server_error", "param": None, "code": None}})
        await send({"type": "http.response.body", "body": body})


CLIENT_CLOSED = 499  # nginx's status for "the client closed the request"


def client_closed(ex: Exchange) -> None:
    """Mark `ex` as abandoned by its client: status 499; it keeps what it was billed for what it got."""
    ex.status = CLIENT_CLOSED


async def pause(seconds: float, receive=None) -> bool:
    """Sleep for injected latency; False if the client disconnected meanwhile.

    With no latency, return at once without yielding to the loop: even
    sleep(0) puts this request behind every other ready one, which under load
    added milliseconds of queueing to a mock that needs microseconds.
    """
    if seconds <= 0:
        return True
    if receive is None:
        await asyncio.sleep(seconds)
        return True
    watcher = asyncio.ensure_future(_until_disconnect(receive))
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
        return not done
    finally:
        watcher.cancel()


def _completion_id(ex: Exchange) -> str:
    return "chatcmpl-" + ex.request_id[4:28]


# How far a stream has got once an event is sent: (content characters sent,
# tool calls sent whole, argument characters of the call being sent or -1);
# None: the finish chunk has gone out, the whole answer is delivered.
Progress = tuple[int, int, int] | None


def _stream_events(ex: Exchange, req: ChatRequest, reply: Reply) -> list[tuple[bytes, Progress, int, str]]:
    """All SSE events of a stream, ending with usage (if asked) and [DONE].

    Each event comes with the progress it completes (for the exact count of
    what was delivered) and what it adds (framing tokens, text to count) for
    the running estimate charged while a paced stream goes out.
    """
    cid, created, model, usage = _completion_id(ex), int(ex.ts), req.model, req.include_usage
    events: list[tuple[bytes, Progress, int, str]] = [
        (wire.chunk(cid, created, model, {"role": "assistant", "content": "", "refusal": None}, None, usage), (0, 0, -1), 0, "")]
    sent = 0
    for piece in wire.split_text(reply.content or ""):
        sent += len(piece)
        events.append((wire.chunk(cid, created, model, {"content": piece}, None, usage), (sent, 0, -1), 0, piece))
    for i, (call_id, name, args) in enumerate(reply.calls):
        head = {"index": i, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        events.append((wire.chunk(cid, created, model, {"tool_calls": [head]}, None, usage), (sent, i, 0), TOOL_CALL_OVERHEAD, name))
        done = 0
        for piece in wire.split_text(args, 24):
            done += len(piece)
            events.append((wire.chunk(cid, created, model, {"tool_calls": [{"index": i, "function": {"arguments": piece}}]}, None, usage),
                           (sent, i, done), 0, piece))
    events.append((wire.chunk(cid, created, model, {}, reply.finish, usage), None, 0, ""))
    if usage:
        events.append((wire.usage_chunk(cid, created, model, wire.usage(ex.prompt_tokens, reply.completion_tokens)), None, 0, ""))
    events.append((wire.SSE_DONE, None, 0, ""))
    return events


def delivered_tokens(reply: Reply, progress: Progress) -> int:
    """Completion tokens a client has received once the stream got to `progress` (exact: one count)."""
    if progress is None:
        return reply.completion_tokens
    content_chars, call_index, args_chars = progress
    total = tokens.count((reply.content or "")[:content_chars])
    for i, (_, name, args) in enumerate(reply.calls[: call_index + (1 if args_chars >= 0 else 0)]):
        total += TOOL_CALL_OVERHEAD + tokens.count(name) + tokens.count(args if i < call_index else args[:args_chars])
    return min(total, reply.completion_tokens)


async def _until_disconnect(receive) -> None:
    if receive is None:
        await asyncio.Event().wait()
    while (await receive())["type"] != "http.disconnect":
        pass


async def _reset(send, started: bool = True) -> None:
    if abort_connection(send):
        await asyncio.sleep(0)  # let the server see the connection is gone
        return
    # A server without a transport to abort (in-process tests): end the body early.
    if not started:
        await send({"type": "http.response.start", "status": 200, "headers": [wire.JSON_TYPE]})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def abort_connection(send) -> bool:
    """Drop the client's connection with a TCP reset; False if the server gives no transport.

    ASGI has no reset; uvicorn's `send` is a bound method of its per-request
    cycle, which holds the transport. SO_LINGER 0 turns the close into an RST.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return False
    if transport.is_closing():  # the client is gone already
        return True
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, ValueError):  # uvloop: the descriptor may be closed under us
            pass
    transport.abort()
    return True
