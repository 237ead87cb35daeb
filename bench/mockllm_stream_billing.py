"""Added latency of billing streams as they are sent (issue 11, item 1).

Starts the mock (this tree, or `--pythonpath DIR` for another version of the
package) and sends sequential `stream: true` requests with one keep-alive
client, reading each stream to `[DONE]`. Two profiles: no injected latency
(the stream goes out in one write) and 200 ms (paced event by event, each
event charged before it is sent). Prints p50/p95 of the client's time per
stream, minus the injected latency.

    .venv/bin/python bench/mockllm_stream_billing.py [--requests 200] [--pythonpath DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MODELS = [{"id": "atlas-mini", "input_per_mtok": 0.15, "output_per_mtok": 0.6, "context_window": 16000}]
PROMPT = "Explain in a few paragraphs how to handle a refund request for a customer who was charged twice."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(latency_ms: int, n: int, pythonpath: str | None) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "p.json"
        profile.write_text(json.dumps({"seed": 1, "models": MODELS, "latency": {"p50_ms": latency_ms, "p95_ms": latency_ms}}))
        port = free_port()
        env = dict(os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {}))
        proc = subprocess.Popen([sys.executable, "-m", "worksample.mockllm", "serve", "--profile", str(profile), "--port",
                                 str(port), "--log", str(Path(tmp) / "log" / "calls.jsonl")], env=env, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            with httpx.Client(timeout=30) as client:
                deadline = time.monotonic() + 20
                while True:
                    try:
                        client.get(f"http://127.0.0.1:{port}/healthz")
                        break
                    except httpx.HTTPError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
                times, events = [], 0
                for i in range(n):
                    body = {"model": "atlas-mini", "stream": True, "stream_options": {"include_usage": True},
                            "messages": [{"role": "user", "content": f"{PROMPT} ({i})"}]}
                    t0 = time.perf_counter()
                    with client.stream("POST", url, json=body, headers={"authorization": "Bearer k"}) as r:
                        events = sum(1 for line in r.iter_lines() if line.startswith("data: "))
                    times.append((time.perf_counter() - t0) * 1000 - latency_ms)
            times.sort()
            return statistics.median(times), times[int(len(times) * 0.95) - 1], events
        finally:
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pythonpath", default=None)
    args = parser.parse_args()
    for latency in (0, 200):
        p50, p95, events = run(latency, args.requests if latency == 0 else max(args.requests // 4, 20), args.pythonpath)
        print(f"latency {latency:3d} ms: {events} events per stream, time beyond the injected latency "
              f"p50 {p50:.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    main()
