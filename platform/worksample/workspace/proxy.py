"""Reverse proxy from the platform to an attempt's JupyterLab over its unix socket.

HTTP goes through httpx (`AsyncHTTPTransport(uds=…)`), websockets through the
`websockets` library's `unix_connect`. The proxy injects `Authorization: token …`
upstream and strips it, the candidate's cookies for the platform, and Origin /
Referer from what it forwards (it has checked them itself). JupyterLab embeds
its token in the page config of its HTML pages; the proxy blanks it in every
HTML or JSON body, so the token never reaches the browser.

Everything that comes out of the pod is the candidate's (they can replace the
server on the socket), so every path through here is bounded (`limits`):
request bodies are streamed upstream with a running count (refused early by
Content-Length), response bodies are streamed (HTML/JSON scrubbed chunk by
chunk, gzip inflated in bounded steps), websocket messages are capped in both
directions with a one-message queue, and an attempt holds a bounded number of
websockets at once.

Activity (cells run, saves, kernel restarts) is observed here; see `activity`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable
from urllib.parse import unquote

import httpx
from fastapi import Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from starlette.background import BackgroundTask
from starlette.websockets import WebSocketDisconnect
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from websockets.asyncio.client import unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from worksample.workspace import activity
from worksample.workspace import proxy_limits as limits
from worksample.workspace.access import ATTEMPT_COOKIE
from worksample.workspace.pods import Jupyter

log = logging.getLogger(__name__)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}
DROP_UPSTREAM = HOP_BY_HOP | {"authorization", "origin", "referer", "cookie", "accept-encoding"}
SCRUB_TYPES = ("text/html", "application/json")
PLATFORM_COOKIES = {ATTEMPT_COOKIE, "ws_session", "ws_csrf"}  # staff cookies never reach a sandbox (H4)


class UpstreamGone(Exception):
    """The pod's socket does not answer (pod removed, or restarting)."""


class BodyTooLarge(Exception):
    """The browser's request body passed `limits.REQUEST_BODY_MAX` (answered 413)."""


def unsafe_path(raw_path: str) -> bool:
    """True if a request path tries to leave its prefix: `..` or `.` segments, in any encoding, or NUL/backslash."""
    text = raw_path
    for _ in range(4):  # undo up to four layers of percent-encoding
        lowered = text.lower()
        if "\\" in text or "\x00" in text or "%5c" in lowered or "%00" in lowered:
            return True
        if any(seg in ("..", ".") for seg in text.split("/")):
            return True
        decoded = unquote(text)
        if decoded == text:
            return False
        text = decoded
    return True  # more layers than any real client sends


def _cookies_upstream(header: str | None) -> str | None:
    """The Cookie header minus the platform's own cookies (JupyterLab's `_xsrf` etc. pass)."""
    if not header:
        return None
    kept = [part.strip() for part in header.split(";")
            if part.strip() and part.split("=", 1)[0].strip() not in PLATFORM_COOKIES]
    return "; ".join(kept) or None


def upstream_headers(headers, jupyter: Jupyter) -> dict[str, str]:
    """Headers to send to JupyterLab: the browser's, minus hop-by-hop and credentials, plus the token."""
    out = {k: v for k, v in headers.items() if k.lower() not in DROP_UPSTREAM}
    cookie = _cookies_upstream(headers.get("cookie"))
    if cookie:
        out["cookie"] = cookie
    out["authorization"] = f"token {jupyter.token}"
    out["host"] = "localhost"  # JupyterLab refuses non-local Host names
    out["accept-encoding"] = "gzip"
    return out


class HttpProxy:
    """One httpx client per pod socket, reused across requests."""

    def __init__(self) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}

    def client(self, sock: str) -> httpx.AsyncClient:
        """The client for a socket path (created on first use)."""
        if sock not in self._clients:
            self._clients[sock] = httpx.AsyncClient(  # verify=False: no TLS on a socket, so no CA bundle (50 ms)
                transport=httpx.AsyncHTTPTransport(uds=sock, verify=False), base_url="http://localhost",
                timeout=httpx.Timeout(300.0, connect=5.0))
        return self._clients[sock]

    async def forget(self, sock: str) -> None:
        """Close the client of a socket that went away."""
        client = self._clients.pop(sock, None)
        if client is not None:
            await client.aclose()

    async def forward(self, request: Request, jupyter: Jupyter, subpath: str) -> Response:
        """Send `request` to JupyterLab and return its streamed response (HTML/JSON scrubbed of the token).

        The request body is streamed upstream with a running count: over
        `limits.REQUEST_BODY_MAX` (declared or counted) the answer is 413, and
        the API never holds more than one chunk of it. Raises UpstreamGone when
        the socket does not answer before any of the body was sent (so the
        caller may retry on a fresh pod).
        """
        declared = limits.declared_length(request.headers)
        if declared is not None and declared > limits.REQUEST_BODY_MAX:
            return _too_large()
        body = _BodyStream(request)
        raw = request.scope.get("raw_path") or request.url.path.encode()
        url = raw.decode("latin-1") + (f"?{request.url.query}" if request.url.query else "")
        headers = upstream_headers(request.headers, jupyter)
        if declared is not None:
            headers["content-length"] = str(declared)
        content = body if body.expected(request.headers) else b""
        upstream = self.client(jupyter.sock).build_request(request.method, url, headers=headers, content=content)
        try:
            resp = await self.client(jupyter.sock).send(upstream, stream=True)
        except BodyTooLarge:
            return _too_large()
        except httpx.TimeoutException:
            return PlainTextResponse("your workspace did not answer in time", status_code=504)
        except (httpx.TransportError, FileNotFoundError) as exc:
            await self.forget(jupyter.sock)
            if body.started:  # part of the body is gone upstream: it cannot be sent again
                return _restarting()
            raise UpstreamGone(str(exc)) from exc
        await _note_http(jupyter.attempt_id, request.method, subpath, resp.status_code)
        return _response(resp, jupyter.token)


class _BodyStream:
    """The browser's request body as an async iterator with a running byte count (BodyTooLarge past the cap)."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self.started = False

    @staticmethod
    def expected(headers) -> bool:
        """True if the request says it has a body (Content-Length > 0 or chunked)."""
        return (limits.declared_length(headers) or 0) > 0 or "chunked" in headers.get("transfer-encoding", "").lower()

    async def __aiter__(self):
        seen = 0
        async for chunk in self._request.stream():
            seen += len(chunk)
            if seen > limits.REQUEST_BODY_MAX:
                raise BodyTooLarge(f"request body over {limits.REQUEST_BODY_MAX} bytes")
            self.started = True
            if chunk:
                yield chunk


def _too_large() -> Response:
    return PlainTextResponse(f"request body too large (the limit is {limits.REQUEST_BODY_MAX // 1024**2} MiB)",
                             status_code=413, headers={"Connection": "close"})


def _restarting() -> Response:
    return PlainTextResponse("your workspace is restarting; retry in a few seconds", status_code=503,
                             headers={"Retry-After": "3"})


def _response(resp: httpx.Response, token: str) -> Response:
    """Stream the upstream response; HTML/JSON bodies pass through the token scrubber chunk by chunk."""
    headers = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in HOP_BY_HOP]
    ctype = resp.headers.get("content-type", "")
    if ctype.startswith(SCRUB_TYPES):
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in limits.DECODABLE:
            # We ask for gzip only; anything else would have to be decoded before it could be scrubbed.
            return Response(f"workspace answered in an unsupported encoding {encoding[:40]!r}", status_code=502,
                            background=BackgroundTask(resp.aclose))
        headers = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
        chunks = limits.scrub_token(limits.inflate(resp.aiter_raw(limits.CHUNK), encoding), token.encode())
        out = StreamingResponse(chunks, status_code=resp.status_code, background=BackgroundTask(resp.aclose))
    else:
        out = StreamingResponse(limits.until_broken(resp.aiter_raw(limits.CHUNK)), status_code=resp.status_code,
                                background=BackgroundTask(resp.aclose))
    for key, value in headers:
        out.headers.append(key, value)
    return out


async def _note_http(attempt_id: str, method: str, subpath: str, status: int) -> None:
    event = activity.http_event(method, subpath, status)
    if event is not None:
        await run_in_threadpool(activity.record, attempt_id, event)


_open_websockets: dict[str, int] = {}


async def proxy_websocket(ws: WebSocket, jupyter: Jupyter) -> None:
    """Accept the browser's websocket and pump messages both ways to JupyterLab's.

    A message over `limits.WS_MESSAGE_MAX` either way closes both sides with
    1009 (the websockets library refuses it from its frame header, before
    reading the payload); an attempt past `limits.WS_PER_ATTEMPT` open
    websockets is refused with 1013. Raises UpstreamGone (before accepting) if
    the pod's socket does not answer.
    """
    if _open_websockets.get(jupyter.attempt_id, 0) >= limits.WS_PER_ATTEMPT:
        await ws.close(code=1013, reason="too many open connections to this workspace")
        return
    raw = ws.scope.get("raw_path") or ws.url.path.encode()
    query = ws.scope.get("query_string", b"").decode("latin-1")
    uri = "ws://localhost" + raw.decode("latin-1") + (f"?{query}" if query else "")
    headers = {"Authorization": f"token {jupyter.token}"}
    cookie = _cookies_upstream(ws.headers.get("cookie"))
    if cookie:
        headers["Cookie"] = cookie
    subprotocols = list(ws.scope.get("subprotocols") or [])
    try:
        upstream = await unix_connect(jupyter.sock, uri, additional_headers=headers,
                                      subprotocols=subprotocols or None, max_size=limits.WS_MESSAGE_MAX,
                                      max_queue=limits.WS_QUEUE, compression=None, open_timeout=10,
                                      ping_interval=None)
    except (OSError, InvalidHandshake, InvalidStatus, asyncio.TimeoutError) as exc:
        raise UpstreamGone(str(exc)) from exc
    _open_websockets[jupyter.attempt_id] = _open_websockets.get(jupyter.attempt_id, 0) + 1
    try:
        async with upstream:
            await ws.accept(subprotocol=upstream.subprotocol)
            watch = _watch_kernel(jupyter.attempt_id) if "/api/kernels/" in ws.url.path else None
            await _pump(ws, upstream, watch)
    finally:
        left = _open_websockets.pop(jupyter.attempt_id, 1) - 1
        if left > 0:
            _open_websockets[jupyter.attempt_id] = left


def _watch_kernel(attempt_id: str) -> Callable[[str | bytes], Awaitable[None]]:
    async def watch(frame: str | bytes) -> None:
        if len(frame) > limits.WATCH_MAX:  # no cell is a megabyte of code; parsing it would block the loop
            return
        event = activity.execute_event(frame)
        if event is not None:
            await run_in_threadpool(activity.record, attempt_id, event)

    return watch


class _TooBig(Exception):
    """A browser message over limits.WS_MESSAGE_MAX."""


async def _pump(ws: WebSocket, upstream, watch) -> None:
    async def browser_to_pod() -> None:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            frame = msg.get("text") if msg.get("text") is not None else msg.get("bytes")
            if frame is None:
                continue
            if len(frame) > limits.WS_MESSAGE_MAX:  # uvicorn caps it too; other servers may not
                raise _TooBig()
            if watch is not None:
                try:
                    await watch(frame)
                except Exception:  # activity is observation only; never drop the frame for it
                    log.exception("activity record failed")
            await upstream.send(frame)

    async def pod_to_browser() -> None:
        async for frame in upstream:
            if isinstance(frame, str):
                await ws.send_text(frame)
            else:
                await ws.send_bytes(frame)

    tasks = [asyncio.create_task(browser_to_pod()), asyncio.create_task(pod_to_browser())]
    too_big = False
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except _TooBig:
                too_big = True
            except (asyncio.CancelledError, ConnectionClosed, RuntimeError, WebSocketDisconnect):
                pass
            except Exception:
                log.debug("websocket pump ended with an error", exc_info=True)
        sent = upstream.protocol.close_sent  # 1009: the pod sent a message over max_size
        too_big = too_big or (sent is not None and sent.code == 1009)
        try:
            if too_big:
                await ws.close(code=1009, reason=f"message over {limits.WS_MESSAGE_MAX // 1024**2} MiB")
            else:
                await ws.close()
        except (RuntimeError, WebSocketDisconnect):
            pass  # already closed by the browser


http_proxy = HttpProxy()
