"""Reverse proxy from the platform to an attempt's JupyterLab over its unix socket.

HTTP goes through httpx (`AsyncHTTPTransport(uds=…)`), websockets through the
`websockets` library's `unix_connect`. The proxy injects `Authorization: token …`
upstream and strips it, the candidate's cookies for the platform, and Origin /
Referer from what it forwards (it has checked them itself). JupyterLab embeds
its token in the page config of its HTML pages; the proxy blanks it in every
HTML or JSON body, so the token never reaches the browser.

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
from starlette.responses import Response, StreamingResponse
from websockets.asyncio.client import unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from worksample.workspace import activity
from worksample.workspace.access import ATTEMPT_COOKIE
from worksample.workspace.pods import Jupyter

log = logging.getLogger(__name__)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}
DROP_UPSTREAM = HOP_BY_HOP | {"authorization", "origin", "referer", "cookie", "accept-encoding"}
SCRUB_TYPES = ("text/html", "application/json")
SCRUB_MAX = 8 * 1024**2
MAX_BODY = 128 * 1024**2
PLATFORM_COOKIES = {ATTEMPT_COOKIE, "ws_staff"}


class UpstreamGone(Exception):
    """The pod's socket does not answer (pod removed, or restarting)."""


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
            self._clients[sock] = httpx.AsyncClient(
                transport=httpx.AsyncHTTPTransport(uds=sock), base_url="http://localhost",
                timeout=httpx.Timeout(300.0, connect=5.0))
        return self._clients[sock]

    async def forget(self, sock: str) -> None:
        """Close the client of a socket that went away."""
        client = self._clients.pop(sock, None)
        if client is not None:
            await client.aclose()

    async def forward(self, request: Request, jupyter: Jupyter, subpath: str) -> Response:
        """Send `request` to JupyterLab and return its response (streamed unless it must be scrubbed).

        Raises UpstreamGone when the socket does not answer.
        """
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("request body too large", status_code=413)
        raw = request.scope.get("raw_path") or request.url.path.encode()
        url = raw.decode("latin-1") + (f"?{request.url.query}" if request.url.query else "")
        upstream = self.client(jupyter.sock).build_request(
            request.method, url, headers=upstream_headers(request.headers, jupyter), content=body)
        try:
            resp = await self.client(jupyter.sock).send(upstream, stream=True)
        except (httpx.ConnectError, httpx.RemoteProtocolError, FileNotFoundError) as exc:
            await self.forget(jupyter.sock)
            raise UpstreamGone(str(exc)) from exc
        await _note_http(jupyter.attempt_id, request.method, subpath, resp.status_code)
        return await _response(resp, jupyter.token)


async def _response(resp: httpx.Response, token: str) -> Response:
    headers = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in HOP_BY_HOP]
    ctype = resp.headers.get("content-type", "")
    if ctype.startswith(SCRUB_TYPES):
        body = await resp.aread()  # decoded by httpx
        await resp.aclose()
        if len(body) <= SCRUB_MAX:
            body = body.replace(token.encode(), b"")
        headers = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
        out = Response(body, status_code=resp.status_code)
    else:
        out = StreamingResponse(resp.aiter_raw(), status_code=resp.status_code, background=BackgroundTask(resp.aclose))
    for key, value in headers:
        out.headers.append(key, value)
    return out


async def _note_http(attempt_id: str, method: str, subpath: str, status: int) -> None:
    event = activity.http_event(method, subpath, status)
    if event is not None:
        await run_in_threadpool(activity.record, attempt_id, event)


async def proxy_websocket(ws: WebSocket, jupyter: Jupyter) -> None:
    """Accept the browser's websocket and pump frames both ways to JupyterLab's.

    Raises UpstreamGone (before accepting) if the pod's socket does not answer.
    """
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
                                      subprotocols=subprotocols or None, max_size=None, compression=None,
                                      open_timeout=10, ping_interval=None)
    except (OSError, InvalidHandshake, InvalidStatus, asyncio.TimeoutError) as exc:
        raise UpstreamGone(str(exc)) from exc
    async with upstream:
        await ws.accept(subprotocol=upstream.subprotocol)
        watch = _watch_kernel(jupyter.attempt_id) if "/api/kernels/" in ws.url.path else None
        await _pump(ws, upstream, watch)


def _watch_kernel(attempt_id: str) -> Callable[[str | bytes], Awaitable[None]]:
    async def watch(frame: str | bytes) -> None:
        event = activity.execute_event(frame)
        if event is not None:
            await run_in_threadpool(activity.record, attempt_id, event)

    return watch


async def _pump(ws: WebSocket, upstream, watch) -> None:
    async def browser_to_pod() -> None:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            frame = msg.get("text") if msg.get("text") is not None else msg.get("bytes")
            if frame is None:
                continue
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
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, ConnectionClosed, RuntimeError, WebSocketDisconnect):
                pass
            except Exception:
                log.debug("websocket pump ended with an error", exc_info=True)
        try:
            await ws.close()
        except (RuntimeError, WebSocketDisconnect):
            pass  # already closed by the browser


http_proxy = HttpProxy()
