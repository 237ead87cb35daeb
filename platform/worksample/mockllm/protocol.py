"""uvicorn's httptools protocol with a bound on the request head.

httptools gathers the request line and headers without any limit: one
connection sending 256 MiB of headers took the mock from 74 to 332 MiB.
This protocol counts the bytes of each request head (until the headers are
complete) and answers 431 and closes past `MAX_HEAD_BYTES`. h11, the
fallback, has its own limit (16 KiB by default).
"""

from __future__ import annotations

MAX_HEAD_BYTES = 64 * 1024
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain\r\n"
              b"content-length: 37\r\nconnection: close\r\n\r\nRequest header fields are too large.\n")


def http_protocol(preferred: str):
    """The protocol class (or name) to give uvicorn: the bounded httptools protocol when available."""
    if preferred != "httptools":
        return preferred
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """HttpToolsProtocol that refuses request heads over MAX_HEAD_BYTES."""

        _in_head = True
        _head_bytes = 0
        _head_done = False  # a head completed while this chunk was parsed: its bytes are not a head's

        def data_received(self, data: bytes) -> None:
            if self.transport.is_closing():
                return
            self._head_done = False
            super().data_received(data)
            if self._in_head and not self._head_done:
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD_BYTES:
                    self.transport.write(_TOO_LARGE)
                    self.transport.close()

        def on_headers_complete(self) -> None:
            self._in_head, self._head_done = False, True
            self._head_bytes = 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            # The next request on this connection starts its own head; the rest of this chunk is not counted.
            self._in_head, self._head_done = True, True
            super().on_message_complete()

    return BoundedHttpToolsProtocol
