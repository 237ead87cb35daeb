"""The bounds of the workspace proxy, and the streaming helpers that keep them.

Whatever answers on an attempt's socket is the candidate's to control (they can
stop JupyterLab and serve anything there), and whatever the browser sends is
theirs too. So nothing here reads a body whole: request bodies are counted as
they stream, responses are passed on chunk by chunk, gzip is inflated at most
`CHUNK` bytes at a time (a compression bomb costs one chunk), and the token
scrubber holds back only `len(token) - 1` bytes between chunks.
"""

from __future__ import annotations

import zlib
from typing import AsyncIterator

import httpx

CHUNK = 64 * 1024
REQUEST_BODY_MAX = 128 * 1024**2  # a notebook save or a 1 MiB upload chunk is far below this
WS_MESSAGE_MAX = 16 * 1024**2  # same as uvicorn's default ws_max_size, in both directions
WS_QUEUE = 1  # websocket messages read ahead from the pod per connection
WS_PER_ATTEMPT = 16  # JupyterLab opens one per kernel session, terminal and the event stream
WATCH_MAX = 1024**2  # browser frames larger than this are not parsed for activity
DECODABLE = ("identity", "gzip", "x-gzip", "")


def declared_length(headers) -> int | None:
    """The request's Content-Length as an int, None when absent; a malformed one counts as too large."""
    text = headers.get("content-length")
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 19 else REQUEST_BODY_MAX + 1


async def inflate(raw: AsyncIterator[bytes], encoding: str) -> AsyncIterator[bytes]:
    """Decode a gzip body in steps of at most CHUNK output bytes (identity passes through)."""
    if encoding not in ("gzip", "x-gzip"):
        async for chunk in until_broken(raw):
            yield chunk
        return
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    async for chunk in until_broken(raw):
        pending = chunk
        while pending and not decoder.eof:
            try:
                out = decoder.decompress(pending, CHUNK)
            except zlib.error:
                return  # corrupt gzip from the pod: end the body here
            pending = decoder.unconsumed_tail
            if out:
                yield out
        if decoder.eof:
            return


async def scrub_token(chunks: AsyncIterator[bytes], token: bytes) -> AsyncIterator[bytes]:
    """Pass `chunks` on with every occurrence of `token` removed, also across chunk boundaries."""
    keep = max(len(token) - 1, 0)
    tail = b""
    async for chunk in chunks:
        data = _without(tail + chunk, token)
        cut = max(len(data) - keep, 0)
        tail = data[cut:]
        if cut:
            yield data[:cut]
    if tail:
        yield _without(tail, token)


def _without(data: bytes, token: bytes) -> bytes:
    # Repeat: removing one copy must not join two halves into a new one.
    while token and token in data:
        data = data.replace(token, b"")
    return data


async def until_broken(raw: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The pod may drop the connection mid-body; the response then just ends (headers are already sent)."""
    try:
        async for chunk in raw:
            yield chunk
    except httpx.TransportError:
        return
