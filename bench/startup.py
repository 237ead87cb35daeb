"""Start-up with and without the warm pool, in one run: Start → JupyterLab answering, Start → kernel idle.

For each mode (pool off: WORKSAMPLE_WARM_POOL=0; pool on: 1) it runs a real
`worksample serve` on loopback (own data dir under var/bench/, a copy of the
flagship task) and times N sequential Starts from the browser's side:
  lab     POST /api/v1/attempts/{token}/start, then GET /w/{id}/api/status through the proxy answers 200
  kernel  from the same t0: POST /w/{id}/api/kernels, then kernel_info over the proxied websocket
With the pool on, each Start waits until the pool holds a ready pod (the
steady state the pool is for: arrivals slower than a refill); a Start that
found it empty would be cold, and is counted. Each attempt is revoked after its
timing (pod removed), so N attempts never pile up. Then the memory of an idle
pool pod (JupyterLab, no kernel) and of an idle attempt (JupyterLab, one idle
kernel), mock included; optionally, --concurrent N attempts started at once
(cold and pooled mixed) with how many failed and whether each runs code. Cold
pods queue for the host's start slots (WORKSAMPLE_START_CONCURRENCY); a Start
still in line when the API stops waiting answers with its workspace `queued`,
and "JupyterLab answering" then includes polling the attempt's state, as the
workspace page does, until it is ready.

    .venv/bin/python bench/startup.py [--starts 20] [--concurrent 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attempt_start import Bench, pod_memory_mib, serving  # noqa: E402
from figures import pct  # noqa: E402


class PoolBench(Bench):
    """`Bench` with a warm pool size, a stricter "JupyterLab answering" and revoke-after-timing."""

    def __init__(self, root: Path, pool: int) -> None:
        super().__init__(root)
        self.env["WORKSAMPLE_WARM_POOL"] = str(pool)
        self.invitations: dict[str, str] = {}

    def invite(self) -> str:
        resp = httpx.post(self.url + "/api/v1/invitations", headers={"Authorization": f"Bearer {self.admin}"},
                          json={"task": self.slug, "candidate": {"name": "Bench", "email": "b@example.com"}}, timeout=30)
        resp.raise_for_status()
        self.invitations[resp.json()["token"]] = resp.json()["id"]
        return resp.json()["token"]

    def lab_answers(self, client: httpx.Client, attempt_id: str) -> None:
        """The stricter "JupyterLab answering": GET /w/{id}/api/status answers 200 through the platform's proxy."""
        client.get(f"/w/{attempt_id}/api/status").raise_for_status()

    def kernel_ready(self, opened: dict) -> None:
        """As JupyterLab does, reconnect when a slow kernel start times the websocket handshake out (3 tries);
        the reconnects in `opened["ws_retries"]`."""
        opened["ws_retries"] = 0
        for attempt in range(3):
            try:
                super().kernel_ready(opened)
                break
            except Exception:
                if attempt == 2:
                    raise
                opened["ws_retries"] += 1
                time.sleep(0.5)

    def revoke(self, token: str) -> None:
        httpx.post(f"{self.url}/api/v1/invitations/{self.invitations[token]}/revoke",
                   headers={"Authorization": f"Bearer {self.admin}"}, timeout=120).raise_for_status()

    def pool_ready(self) -> list[str]:
        """Reserved attempt ids of the ready pool pods."""
        return [p.name.split(".")[1] for p in (self.root / "data" / "pool" / "ready").glob("*.json")]

    def wait_pool(self, timeout: float = 300) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pool_ready():
                return True
            time.sleep(0.05)
        return False


def run_mode(pool: int, starts: int, concurrent: int) -> dict:
    """Time `starts` Starts with a pool of `pool`; memory figures; optionally `concurrent` at once."""
    result: dict = {"pool": pool, "cold": 0}
    with serving(f"startup-pool{pool}", PoolBench, pool) as bench:
        tokens = [bench.invite() for _ in range(starts)]  # also syncs the catalog, so the pool can fill
        runs = []
        for token in tokens:
            if pool and not bench.wait_pool():
                raise SystemExit("the warm pool did not fill within 300 s; see " + str(bench.root / "serve.log"))
            reserved = set(bench.pool_ready())
            try:
                opened = bench.open_attempt(token)
            except Exception as exc:  # counted and shown, the run goes on
                result.setdefault("failed", []).append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            result["cold"] += opened["attempt_id"] not in reserved if pool else 1
            if "attempt_mem" not in result and len(runs) >= starts // 2:
                time.sleep(5)  # settle to idle
                result["attempt_mem"] = pod_memory_mib(opened["attempt_id"])
            bench.revoke(token)
            runs.append(opened)
        result["ws_retries"] = sum(r["ws_retries"] for r in runs)
        result["lab"] = [r["lab_s"] for r in runs]
        result["ready"] = [r["ready_s"] for r in runs]
        if pool and bench.wait_pool():
            time.sleep(5)
            result["pool_mem"] = pod_memory_mib(bench.pool_ready()[0])
        if concurrent:
            result["concurrent"] = at_once(bench, concurrent)
    return result


def at_once(bench: PoolBench, n: int) -> dict:
    """Start `n` attempts at once; wall time, errors, slowest start → kernel idle, how many run code."""
    tokens = [bench.invite() for _ in range(n)]
    errors: list[str] = []

    def one(token: str):
        try:
            return bench.open_attempt(token)
        except Exception as exc:  # counted and shown: the figure is how many fail
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return None

    load = LoadPeak()
    load.start()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        opened = [o for o in pool.map(one, tokens) if o]
        wall = time.perf_counter() - t0
        usable = sum(pool.map(bench.usable, opened))
    load.stop.set()
    total = sum(sum(pod_memory_mib(o["attempt_id"]).values()) for o in opened[:5]) / max(1, min(5, len(opened)))
    return {"n": n, "wall": wall, "errors": errors, "usable": usable, "lab": [o["lab_s"] for o in opened],
            "ready": [o["ready_s"] for o in opened], "polled": sum(o["polled"] for o in opened),
            "slowest": max((o["ready_s"] for o in opened), default=0.0), "mem_mean_of_5": total,
            "load_peak": load.peak}


class LoadPeak(threading.Thread):
    """The highest 1-minute load average seen, sampled every second until `stop` is set."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.peak = max(self.peak, float(open("/proc/loadavg").read().split()[0]))


def show(result: dict) -> None:
    lab, ready = result["lab"], result["ready"]
    print(f"pool {'on (WORKSAMPLE_WARM_POOL=1)' if result['pool'] else 'off (WORKSAMPLE_WARM_POOL=0)'}: "
          f"{len(lab)} sequential Starts timed, {result['cold']} cold, {len(result.get('failed', []))} failed, "
          f"{result['ws_retries']} kernel websocket reconnects")
    for err in result.get("failed", [])[:3]:
        print(f"    failed: {err}")
    print(f"  Start → JupyterLab answering   p50 {pct(lab, .5):.2f} s  p95 {pct(lab, .95):.2f} s  "
          f"(min {min(lab):.2f}, max {max(lab):.2f})")
    print(f"  Start → kernel idle            p50 {pct(ready, .5):.2f} s  p95 {pct(ready, .95):.2f} s  "
          f"(mean {statistics.mean(ready):.2f})")
    mem = result.get("attempt_mem", {})
    print(f"  idle attempt pod (JupyterLab + idle kernel + mock), MiB: {mem}  total {sum(mem.values()):.1f}")
    if "pool_mem" in result:
        mem = result["pool_mem"]
        print(f"  idle pool pod (JupyterLab + mock, no kernel), MiB: {mem}  total {sum(mem.values()):.1f}")
    if "concurrent" in result:
        c = result["concurrent"]
        print(f"  {c['n']} Starts at once: {len(c['errors'])} errors, all ready in {c['wall']:.1f} s wall, slowest "
              f"start→kernel idle {c['slowest']:.1f} s, {c['usable']} run code; mean pod memory {c['mem_mean_of_5']:.0f} MiB")
        if c["lab"]:
            print(f"    Start → JupyterLab answering p50 {pct(c['lab'], .5):.1f} s  p95 {pct(c['lab'], .95):.1f} s; "
                  f"Start → kernel idle p50 {pct(c['ready'], .5):.1f} s  p95 {pct(c['ready'], .95):.1f} s; "
                  f"{c['polled']} Starts answered before their workspace was ready (then polled); "
                  f"peak 1-min load {c['load_peak']:.1f}")
        for err in c["errors"][:5]:
            print(f"    error: {err}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20, help="sequential Starts timed per mode (≥ 20 for p95)")
    parser.add_argument("--concurrent", type=int, default=0, help="also start this many at once (pool on)")
    parser.add_argument("--pool-only", action="store_true", help="skip the pool-off mode (e.g. for --concurrent)")
    args = parser.parse_args()
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}; "
          f"WORKSAMPLE_START_CONCURRENCY={os.environ.get('WORKSAMPLE_START_CONCURRENCY', '(default)')}", flush=True)
    if not args.pool_only:
        show(run_mode(0, args.starts, 0))
        sys.stdout.flush()
    show(run_mode(1, args.starts, args.concurrent))
    print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
