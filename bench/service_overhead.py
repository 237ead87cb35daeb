"""Task services (DESIGN §14): the latency the mock's wrapper adds to each call of a task's service.py.

The same ASGI app (tasks/refund-agent/service.py) is served twice on loopback:
  bare     plain uvicorn, nothing else
  mock     `python -m worksample.mockllm serve --service`, i.e. through ServiceServer:
           a service.jsonl line written before each answer, service_state.json
           rewritten after each call
and N sequential keep-alive calls of each kind are timed from the client
(GET /orders/{id}, and POST /refunds with a fresh Idempotency-Key: a side effect,
so the state file grows). Prints p50/p95 per mode and the p50 added per call.

    .venv/bin/python bench/service_overhead.py [--calls 400]
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

REPO = Path(__file__).resolve().parents[1]
SERVICE = REPO / "tasks" / "refund-agent" / "service.py"
PROFILE = "models:\n  - {id: atlas-mini, input_per_mtok: 0.15, output_per_mtok: 0.60, context_window: 16000}\n" \
          "rate_limits: {rpm: 600, tpm: 400000}\nbudget_usd: 5\nlatency: {p50_ms: 1, p95_ms: 2}\nfaults: []\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "platform")}
    if kind == "bare":
        argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(SERVICE.parent), "service:app", "--port", str(port),
                "--log-level", "warning", "--no-access-log"]
    else:
        (tmp / "profile.yaml").write_text(PROFILE)
        argv = [sys.executable, "-m", "worksample.mockllm", "serve", "--profile", str(tmp / "profile.yaml"),
                "--port", str(free_port()), "--log", str(tmp / "calls.jsonl"), "--service", str(SERVICE),
                "--service-port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/orders/x", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{kind}: the service did not answer within 30 s")


def timed(url: str, calls: int, order: str) -> dict[str, list[float]]:
    out = {"GET /orders": [], "POST /refunds": []}
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(calls):
            t0 = time.perf_counter()
            client.get(f"/orders/{order}")
            out["GET /orders"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            # 0.01 each: stays under what is left to refund for the whole run
            client.post("/refunds", json={"order_id": order, "amount": 0.01}, headers={"Idempotency-Key": f"k{i}"})
            out["POST /refunds"].append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description="latency the mock adds to task-service calls")
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    orders = json.loads((SERVICE.parent / "grader" / "data" / "orders.json").read_text())["orders"]
    order = max(orders.values(), key=lambda o: o["amount"] if o["amount"] < 150 else 0)["id"]
    results = {}
    for kind in ("bare", "mock"):
        with tempfile.TemporaryDirectory() as tmp:
            proc, url = start(kind, Path(tmp))
            try:
                timed(url, 20, order)  # warm up (and spend the refunds that are answered 504)
                results[kind] = timed(url, args.calls, order)
                if kind == "mock":
                    lines = (Path(tmp) / "service.jsonl").read_text().count("\n")
                    print(f"mock: {lines} service.jsonl lines, state file {(Path(tmp) / 'service_state.json').stat().st_size} bytes")
            finally:
                proc.terminate()
                proc.wait(10)
    print(f"{'call':<15}{'bare p50':>10}{'mock p50':>10}{'added p50':>11}{'bare p95':>10}{'mock p95':>10}   (ms, {args.calls} calls each)")
    for call in results["bare"]:
        bare, mock = results["bare"][call], results["mock"][call]
        print(f"{call:<15}{pct(bare, 50):>10.2f}{pct(mock, 50):>10.2f}{pct(mock, 50) - pct(bare, 50):>11.2f}"
              f"{pct(bare, 95):>10.2f}{pct(mock, 95):>10.2f}")


if __name__ == "__main__":
    main()
