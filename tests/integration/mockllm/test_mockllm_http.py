"""The same server through plain httpx and raw sockets: shapes, faults, robustness, the log."""

from __future__ import annotations

import asyncio
import time
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from worksample.mockllm.calllog import CALL_FIELDS

AUTH = {"authorization": "Bearer sk-test"}
BODY = {"model": "atlas-mini", "messages": [{"role": "user", "content": "hello"}]}


def post(server, body: object = BODY, **kw) -> httpx.Response:
    kw.setdefault("headers", AUTH)
    kw.setdefault("timeout", 10)
    if isinstance(body, (bytes, str)):
        kw["content"] = body
    else:
        kw["json"] = body
    return httpx.post(server.base_url + "/chat/completions", **kw)


def test_error_shape_and_headers(mock) -> None:
    server = mock({"rate_limits": {"rpm": 1, "tpm": 100000}})
    assert post(server).status_code == 200
    r = post(server)
    assert r.status_code == 429 and r.headers["content-type"] == "application/json"
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert r.headers["retry-after"].isdigit() and int(r.headers["retry-after"]) >= 1
    assert int(r.headers["retry-after-ms"]) > 1000
    assert r.headers["x-request-id"] == server.calls()[-1]["request_id"]
    unauth = httpx.get(server.base_url + "/models")
    assert unauth.status_code == 401 and "x-ratelimit-remaining-tokens" in unauth.headers


def test_oversized_body_gets_413(mock) -> None:
    server = mock()
    r = post(server, b"{" + b" " * (3 * 1024 * 1024) + b"}")
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert post(server).status_code == 200  # and the server is fine
    assert [c["status"] for c in server.calls()] == [413, 200]


def test_reset_and_timeout_on_the_wire(mock) -> None:
    server = mock({"faults": [{"kind": "reset", "rate": 0.5}, {"kind": "timeout", "rate": 0.5, "stall_s": 3}]})
    seen = set()
    for i in range(12):
        try:
            post(server, {**BODY, "messages": [{"role": "user", "content": f"q{i}"}]}, timeout=0.4)
        except httpx.ReadTimeout:
            seen.add("timeout")
        except (httpx.RemoteProtocolError, httpx.ReadError):
            seen.add("reset")
    assert seen == {"reset", "timeout"}
    assert {c["fault"] for c in server.calls()} == {"reset", "timeout"}


def test_stream_cut_on_the_wire(mock) -> None:
    server = mock({"faults": [{"kind": "stream_cut", "rate": 1.0}]})
    received = b""
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        with httpx.stream("POST", server.base_url + "/chat/completions", json={**BODY, "stream": True}, headers=AUTH) as r:
            for data in r.iter_bytes():
                received += data
    assert received.startswith(b"data: {") and b"[DONE]" not in received


def raw_exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while data := sock.recv(65536):
                chunks.append(data)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


def test_garbage_never_crashes_the_server_or_corrupts_the_log(mock) -> None:
    server = mock()
    junk = [
        os.urandom(2000),
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 10\r\n\r\n{\"a\":",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 12\r\n\r\n\xff\xfe{}{}{}{}{}",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: \xff\xff\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 30\r\n\r\n{\"model\":\"atlas-embed\",\"input\":7}",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    ]
    for payload in junk:
        raw_exchange(server.port, payload)
    for body in ([1, 2], "null", {"model": 5, "messages": "x"}, {**BODY, "messages": [{"role": "user", "content": {"x": 1}}]},
                 {**BODY, "max_tokens": -1}, {**BODY, "tools": [{"function": {}}]}, {**BODY, "response_format": {"type": "yaml"}}):
        r = post(server, body)
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert post(server).status_code == 200
    assert server.proc.poll() is None
    calls = server.calls()
    assert all(list(c) == list(CALL_FIELDS) for c in calls)
    assert calls[-1]["status"] == 200
    bodies = server.log_path.with_name("bodies.jsonl").read_text().splitlines()
    assert all(json.loads(line)["request_id"].startswith("req_") for line in bodies)


async def test_concurrent_requests_log_in_flight(mock) -> None:
    server = mock({"latency": {"p50_ms": 100, "p95_ms": 150}})
    async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH) as c:
        rs = await asyncio.gather(*(c.post("/chat/completions", json={**BODY, "messages": [{"role": "user", "content": str(i)}]}) for i in range(8)))
    assert all(r.status_code == 200 for r in rs)
    calls = server.calls()
    assert len(calls) == 8 and max(c["in_flight"] for c in calls) >= 4
    assert all(c["latency_ms"] >= 20 for c in calls)


def test_killed_mock_loses_nothing_it_answered(mock) -> None:
    server = mock()
    ids = []
    with httpx.Client(base_url=server.base_url, headers=AUTH) as c:
        for i in range(20):
            ids.append(c.post("/chat/completions", json={**BODY, "messages": [{"role": "user", "content": str(i)}]}).headers["x-request-id"])
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(5)
    assert [c["request_id"] for c in server.calls()] == ids


def test_same_seed_same_faults_across_processes(mock) -> None:
    faults = [{"kind": "server_error", "rate": 0.2}, {"kind": "malformed_json", "rate": 0.2}, {"kind": "truncated", "rate": 0.2}]

    def run(server) -> list:
        out = []
        for i in range(25):
            r = post(server, {**BODY, "response_format": {"type": "json_object"}, "messages": [{"role": "user", "content": str(i % 5)}]})
            out.append((r.status_code, r.text if r.status_code != 200 else r.json()["choices"][0]["message"]["content"]))
        return out + [(c["fault"], c["request_hash"], c["completion_tokens"]) for c in server.calls()]

    a = run(mock({"seed": 3, "faults": faults}))
    b = run(mock({"seed": 99, "faults": faults}, seed=3))
    assert a == b


def test_worksample_cli_serves_too(mock) -> None:
    cli = Path(sys.executable).with_name("worksample")
    server = mock(argv0=[str(cli), "mockllm"], api_keys=("sk-test",))
    assert post(server).status_code == 200
    assert post(server, headers={"authorization": "Bearer other"}).status_code == 401


@pytest.mark.parametrize("stream", [False, True])
def test_client_that_gives_up_during_latency_is_logged_499_and_not_billed(mock, stream: bool) -> None:
    server = mock({"latency": {"p50_ms": 1500, "p95_ms": 1500}})
    with pytest.raises(httpx.ReadTimeout):
        post(server, {**BODY, "stream": stream}, timeout=0.3)
    deadline = time.monotonic() + 5
    while not server.calls() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = server.calls()[-1]
    assert line["status"] == 499 and line["cost_usd"] == 0 and line["completion_tokens"] == 0
