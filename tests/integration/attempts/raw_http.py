"""A raw HTTP PUT that streams its body while it reads the answer (the upload attacks of the proxy tests and bench).

An HTTP client library would send the whole body before reading anything; a hostile
browser does not wait, and neither may the test: the server's early refusal (413) is
the point, and how much it took before answering is the figure.
"""

from __future__ import annotations

import socket
import threading

MiB = 1024**2


def put_streaming(port: int, path: str, cookie: str, headers: str, body_size: int,
                  timeout: float = 120) -> tuple[bytes, int]:
    """PUT `path` on 127.0.0.1:`port` with the attempt `cookie` and `headers` (each ending in CRLF).

    A thread sends `body_size` bytes in 1 MiB pieces (as chunks when `headers` say chunked)
    until the server stops reading. Returns (the response's bytes up to the end of its
    headers, or what came before the connection closed; body bytes sent).
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ws_attempt={cookie}\r\n{headers}\r\n".encode())
    sent = [0]
    chunked = "chunked" in headers

    def send() -> None:
        piece = b"A" * MiB
        try:
            while sent[0] < body_size:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent[0] += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: stop sending

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sender.join(timeout=timeout / 2)
    sock.close()
    return answer, sent[0]
