"""Throughput and added latency of the mock LLM API (one server process).

Starts `python -m worksample.mockllm serve` on a free loopback port and drives
it from this process with 32 keep-alive connections (asyncio + uvloop, raw
HTTP/1.1, so the client costs little of the 2 cores), faults off and on. Then
measures latency with injection off: the server's own time (call log
`latency_ms`) and the round trip of a single client. Finally times the pieces
of one request in-process to show where the time goes.

    .venv/bin/python bench/mockllm_throughput.py [--seconds 5] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = [{"id": "atlas-mini", "input_per_mtok": 0.15, "output_per_mtok": 0.6, "context_window": 16000}]
FAST_FAULTS = [  # faults that answer at once (timeout/reset would measure the client, not the server)
    {"kind": "server_error", "rate": 0.04}, {"kind": "overloaded", "rate": 0.03}, {"kind": "bad_gateway", "rate": 0.01},
    {"kind": "malformed_json", "rate": 0.02}, {"kind": "truncated", "rate": 0.02}, {"kind": "content_filter", "rate": 0.005},
]
PROMPT = ("You are a support triage assistant. Classify the ticket into billing, bug, account or other, "
          "and give a one-line reason. Ticket #{i}: My invoice for last month shows a charge twice and "
          "the refund I was promised has not arrived. Please help, this is urgent.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workdir: Path, faults: list, name: str) -> tuple[subprocess.Popen, int, Path]:
    """Start one mock process; returns it, its port and its call log."""
    profile = workdir / f"{name}.json"  # JSON is YAML
    profile.write_text(json.dumps({"seed": 1, "models": MODELS, "faults": faults}))
    port, log = free_port(), workdir / name / "calls.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "worksample.mockllm", "serve", "--profile", str(profile),
                             "--port", str(port), "--log", str(log)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port, log
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("mock did not start")


def request_bytes(i: int) -> bytes:
    body = json.dumps({"model": "atlas-mini", "max_tokens": 200,
                       "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT.format(i=i)}]}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-bench\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def one_connection(port: int, stop_at: float, payloads: list[bytes], latencies: list[float], statuses: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        writer.write(payloads[i % len(payloads)])
        i += 1
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


async def drive(port: int, clients: int, seconds: float) -> tuple[float, list[float], dict]:
    """Run `clients` keep-alive connections for `seconds`; returns req/s, latencies, status counts."""
    payloads = [request_bytes(i) for i in range(200)]
    warm: list[float] = []
    await asyncio.gather(*(one_connection(port, time.perf_counter() + 0.5, payloads, warm, {}) for _ in range(clients)))
    latencies: list[float] = []
    statuses: dict = {}
    start = time.perf_counter()
    await asyncio.gather(*(one_connection(port, start + seconds, payloads, latencies, statuses) for _ in range(clients)))
    return len(latencies) / (time.perf_counter() - start), latencies, statuses


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000


def server_latencies(log: Path, since_line: int) -> list[float]:
    lines = log.read_text().splitlines()[since_line:]
    return [json.loads(line)["latency_ms"] / 1000 for line in lines]


def breakdown(n: int = 3000) -> None:
    """Time the pieces of one chat request in-process (microseconds per request)."""
    import hashlib
    import random

    from worksample.mockllm import tokens
    from worksample.mockllm.chat import compose
    from worksample.mockllm.default_oracle import answer
    from worksample.mockllm.oracle import OracleRequest
    from worksample.mockllm.plan import rng_for
    from worksample.mockllm.validation import chat_request
    from worksample.mockllm.wire import completion, usage

    raw = request_bytes(7).split(b"\r\n\r\n", 1)[1]
    tokens.warm_up()
    body = json.loads(raw)
    req = chat_request(body)
    steps = {
        "json parse": lambda: json.loads(raw.decode()),
        "canonical hash": lambda: hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest(),
        "validate": lambda: chat_request(body),
        "count prompt tokens": lambda: tokens.count_messages(req.messages),
        "seeded rngs (x3)": lambda: [rng_for(1, 5, "h", p) for p in ("plan", "oracle", "content")],
        "default oracle": lambda: answer(OracleRequest("atlas-mini", req.messages, None, None, None, 200, 5, "h", random.Random(5))),
        "compose (count, truncate)": lambda: compose(req, answer(OracleRequest("atlas-mini", req.messages, None, None, None, 200, 5, "h", random.Random(5))), None, random.Random(1)),
        "response JSON": lambda: completion("id", 1, "atlas-mini", "text " * 40, [], "stop", usage(60, 40)),
    }
    print("\nwhere the time goes (in-process, one request):")
    for name, fn in steps.items():
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        print(f"  {name:<28} {(time.perf_counter() - t0) / n * 1e6:7.1f} us")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    try:
        from uvloop import run as runner
    except ImportError:
        runner = asyncio.run
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name, faults in (("faults off", []), ("faults on", FAST_FAULTS)):
            proc, port, log = start_server(workdir, faults, name.replace(" ", "_"))
            try:
                rps, lat, statuses = runner(drive(port, args.clients, args.seconds))
                print(f"{name:<10}: {rps:7.0f} req/s with {args.clients} keep-alive clients; client round trip "
                      f"p50 {pct(lat, 0.5):.2f} ms p99 {pct(lat, 0.99):.2f} ms; statuses {dict(sorted(statuses.items()))}")
                if not faults:
                    loaded = server_latencies(log, 0)
                    print(f"inside the app under that load (log latency_ms): p50 {pct(loaded, 0.5):.2f} ms p99 {pct(loaded, 0.99):.2f} ms")
                    since = len(log.read_text().splitlines())
                    _, single, _ = runner(drive(port, 1, 2.0))
                    inside = server_latencies(log, since)
                    print(f"added latency, injection off, 1 client: round trip p50 {pct(single, 0.5):.2f} ms p99 {pct(single, 0.99):.2f} ms; "
                          f"inside the app (log latency_ms) p50 {pct(inside, 0.5):.2f} ms p99 {pct(inside, 0.99):.2f} ms")
            finally:
                proc.terminate()
                proc.wait(10)
    breakdown()


if __name__ == "__main__":
    main()
