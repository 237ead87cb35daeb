"""Loopback webhook receivers for tests and the bench: verify signatures, fail on purpose, or hang."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request a receiver got."""

    headers: dict[str, str]
    body: bytes
    at: float
    verified: bool | None = None


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records every request and answers as `behaviour` says.

    behaviour: "ok" (verify with `secret` when set; 204, or 401 on a bad signature), "fail_twice"
    (500, 500, then like "ok"), "always_500", "hang" (answer only after `hang_s`).
    """

    behaviour: str = "ok"
    secret: str | None = None
    hang_s: float = 15.0
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> "Receiver":
        """Listen on a free loopback port in a daemon thread."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                item = Received({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                receiver.requests.append(item)
                status = receiver.answer(item)
                try:
                    self.send_response(status)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the sender gave up (timeout): nothing to answer
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def answer(self, item: Received) -> int:
        """The status code for a request (and whether its signature verified)."""
        if self.behaviour == "hang":
            time.sleep(self.hang_s)
            return 204
        if self.behaviour == "always_500" or (self.behaviour == "fail_twice" and len(self.requests) <= 2):
            return 500
        if self.secret:
            from worksample.webhooks.signing import SignatureError, verify

            try:
                verify(self.secret, item.headers, item.body)
                item.verified = True
            except SignatureError:
                item.verified = False
                return 401
        return 204

    def stop(self) -> None:
        """Stop listening."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
