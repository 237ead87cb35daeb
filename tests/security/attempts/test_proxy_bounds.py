"""The workspace proxy stays bounded whatever the candidate's files, kernel or browser send (issue 11, item 5).

Each test runs a real `worksample serve` and a real attempt, attacks it as a
hostile candidate would, and watches the API process's peak resident memory
(VmHWM in /proc): before the fix these attacks added hundreds of MiB each.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from kernel_ws import new_kernel
from raw_http import put_streaming

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]

MiB = 1024**2
GROWTH_MAX = 48 * MiB  # what the API may add while serving one attack


def peak_rss(platform) -> int:
    """The API process's high-water resident memory, in bytes."""
    for line in Path(f"/proc/{platform.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def attempt(platform, slug) -> tuple[str, str, Path, str]:
    """(attempt id, cookie, host workspace dir, Jupyter token) of a fresh attempt."""
    admin = platform.admin_token()
    body, cookie = platform.start_attempt(platform.invite(admin, slug)["token"])
    folder = platform.data_dir / "attempts" / body["attempt_id"]
    token = json.loads((folder / "pod.json").read_text())["token"]
    return body["attempt_id"], cookie, folder / "workspace", token


def sparse_file(path: Path, size: int, head: bytes, tail: bytes) -> None:
    """A file of `size` bytes, costing the quota almost nothing, as the candidate's uid."""
    with open(path, "wb") as fh:
        fh.write(head)
        fh.seek(size - len(tail))
        fh.write(tail)
    os.chown(path, 1000, 1000)


@pytest.mark.timeout(420)
def test_large_html_and_json_files_stream_with_the_token_still_scrubbed(make_platform):
    platform, slug = make_platform()
    attempt_id, cookie, workspace, token = attempt(platform, slug)
    # The token planted where a whole-body replace would see it and a naive chunked one would not.
    secret = token.encode()
    sparse_file(workspace / "big.html", 96 * MiB, b"<html>" + b"x" * (64 * 1024 - 10) + secret, secret + b"</html>")
    sparse_file(workspace / "big.json", 96 * MiB, b'{"a": "' + secret, secret + b'"}')
    before = peak_rss(platform)
    with platform.candidate(cookie) as client:
        for name, ctype in (("big.html", "text/html"), ("big.json", "application/json")):
            size, tail = 0, b""
            with client.stream("GET", f"/w/{attempt_id}/files/{name}", timeout=300) as resp:
                assert resp.status_code == 200, resp.read()[:300]
                assert resp.headers["content-type"].startswith(ctype)
                for chunk in resp.iter_bytes():
                    window = tail + chunk
                    assert secret not in window, f"the Jupyter token reached the browser in {name}"
                    tail = window[-len(secret):]
                    size += len(chunk)
            assert size == 96 * MiB - 2 * len(secret), f"{name}: {size} bytes arrived"
    grown = peak_rss(platform) - before
    assert grown < GROWTH_MAX, f"the API grew by {grown / MiB:.0f} MiB serving two 96 MiB files"


@pytest.mark.timeout(420)
def test_oversized_kernel_messages_close_the_websocket_not_the_api(make_platform):
    platform, slug = make_platform()
    attempt_id, cookie, _workspace, _token = attempt(platform, slug)
    with platform.candidate(cookie) as client:
        kernel = new_kernel(client, attempt_id)
    url = f"ws://127.0.0.1:{platform.port}/w/{attempt_id}/api/kernels/{kernel}/channels"
    code = ("from IPython.display import display\n"
            "for i in range(3):\n    display({'text/plain': str(i) * (24 * 1024**2)}, raw=True)\nprint('sent')")
    msg_id = uuid.uuid4().hex
    request = {"channel": "shell", "buffers": [], "parent_header": {}, "metadata": {},
               "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "t", "session": "s",
                          "version": "5.3", "date": "2026-01-01T00:00:00Z"},
               "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                           "allow_stdin": False, "stop_on_error": True}}
    before = peak_rss(platform)
    with connect(url, additional_headers={"Cookie": f"ws_attempt={cookie}", "Origin": platform.url},
                 open_timeout=30, max_size=None) as ws:
        ws.send(json.dumps(request))
        # Read slowly, as a stalled browser would: an unbounded proxy buffers every message meanwhile.
        time.sleep(20)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=60)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
    grown = peak_rss(platform) - before
    assert grown < GROWTH_MAX, f"the API grew by {grown / MiB:.0f} MiB relaying 3 × 24 MiB kernel messages"
    # The workspace itself still works: the candidate lost a message, not their session.
    with platform.candidate(cookie) as client:
        assert client.get(f"/w/{attempt_id}/api/contents").status_code == 200


@pytest.mark.timeout(420)
def test_uploads_are_refused_early_by_length_and_by_running_count(make_platform):
    platform, slug = make_platform()
    attempt_id, cookie, _workspace, _token = attempt(platform, slug)
    path = f"/w/{attempt_id}/api/contents/upload.json"
    # Declared 2 GiB: refused from the headers, after almost nothing was sent.
    start = time.monotonic()
    answer, sent = put_streaming(platform.port, path, cookie, "Content-Length: 2147483648\r\n", 2048 * MiB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 512 * MiB and time.monotonic() - start < 60
    # No length, chunked: counted as it arrives and refused past the cap, without holding it.
    before = peak_rss(platform)
    answer, sent = put_streaming(platform.port, path, cookie, "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n",
                            400 * MiB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    grown = peak_rss(platform) - before
    assert grown < GROWTH_MAX, f"the API grew by {grown / MiB:.0f} MiB refusing a 400 MiB upload"
    # An ordinary save still goes through the streaming path.
    with platform.candidate(cookie) as client:
        resp = client.put(f"/w/{attempt_id}/api/contents/small.txt",
                          json={"type": "file", "format": "text", "content": "hello"})
        assert resp.status_code in (200, 201), resp.text
        assert client.get(f"/w/{attempt_id}/files/small.txt").text == "hello"
