"""Webhook delivery: N events to a loopback receiver through real `worksample worker` processes.

Prints deliveries per second (first emit to last first-delivery), p50/p95
event-to-delivery latency (emit returned → receiver got it), and, after the
worker is killed (SIGKILL, whole process group) once mid-run and a fresh one
started, how many events the receiver never got (must be 0) and how many
it got twice (at-least-once: receivers de-duplicate by webhook-id).

    .venv/bin/python bench/webhooks.py [--events 1000] [--kill-at 0.4]

Uses a fresh data dir under var/bench/webhooks/ (SQLite) and its own redis-server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))  # the test suite's throwaway redis-server

from figures import pct  # noqa: E402  (bench/, beside this file)
from scratch_redis import start_redis  # noqa: E402


class Tally:
    """What the receiver saw: first arrival time per webhook-id, and every arrival."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.count: Counter = Counter()
        self.lock = threading.Lock()

    def got(self, msg_id: str) -> None:
        with self.lock:
            self.count[msg_id] += 1
            self.first.setdefault(msg_id, time.time())


def _receiver(tally: Tally) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length") or 0))
            tally.got(self.headers.get("webhook-id", "?"))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _worker(root: Path, n: int) -> subprocess.Popen:
    with open(root / f"worker-{n}.log", "wb") as log:
        return subprocess.Popen([str(VENV_BIN / "worksample"), "worker", "--reap-every", "2"], env=os.environ.copy(),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--kill-at", type=float, default=0.4, help="kill the worker when this share has arrived")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    root = REPO / "var" / "bench" / "webhooks"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    redis, redis_url = start_redis(root)
    os.environ.update(WORKSAMPLE_DATA_DIR=str(root / "data"), REDIS_URL=redis_url,
                      WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE="1", WORKSAMPLE_WEBHOOK_RETRY_DELAYS="1,2,4,8,16")
    from worksample.db import migrate
    from worksample.webhooks import emit
    from worksample.webhooks.registry import create_webhook

    migrate()
    tally = Tally()
    server = _receiver(tally)
    create_webhook(f"http://127.0.0.1:{server.server_address[1]}/hook", ["submission.graded"])
    workers = [_worker(root, 0)]
    time.sleep(3)  # the worker registers before the burst
    try:
        emitted: dict[str, float] = {}
        killed_at = None
        started = time.time()
        for i in range(args.events):
            event_id = emit("submission.graded", {"submission_id": f"bench-{i}", "score": i % 100})
            emitted[event_id] = time.time()
            if killed_at is None and len(tally.first) >= args.kill_at * args.events:
                killed_at = _kill_and_restart(workers, root, tally)
        emit_s = time.time() - started
        deadline = time.monotonic() + args.timeout
        while len(tally.first) < args.events and time.monotonic() < deadline:
            if killed_at is None and len(tally.first) >= args.kill_at * args.events:
                killed_at = _kill_and_restart(workers, root, tally)
            time.sleep(0.2)
        _report(args.events, emitted, tally, started, emit_s, killed_at)
    finally:
        for proc in workers:
            _kill(proc, signal.SIGTERM) if proc.poll() is None else None
        server.shutdown()
        redis.terminate()
        redis.wait(timeout=10)


def _kill_and_restart(workers: list, root: Path, tally: Tally) -> int:
    arrived = len(tally.first)
    _kill(workers[-1])
    workers.append(_worker(root, len(workers)))
    print(f"worker killed (SIGKILL) after {arrived} events had arrived; a fresh worker started", flush=True)
    return arrived


def _report(n: int, emitted: dict, tally: Tally, started: float, emit_s: float, killed_at: int | None) -> None:
    got = [i for i in emitted if i in tally.first]
    latencies = [tally.first[i] - emitted[i] for i in got]
    span = max(tally.first[i] for i in got) - started if got else float("nan")
    dupes = sum(1 for i in got if tally.count[i] > 1)
    print(f"events emitted: {n} in {emit_s:.1f} s")
    print(f"delivered: {len(got)} of {n} in {span:.1f} s -> {len(got) / span:.1f} deliveries/s")
    if latencies:
        print(f"event-to-delivery latency: p50 {statistics.median(latencies):.2f} s, "
              f"p95 {pct(latencies, 0.95):.2f} s, max {max(latencies):.2f} s")
    print(f"worker killed once after {killed_at} arrivals; lost: {n - len(got)}; "
          f"delivered more than once: {dupes}")


if __name__ == "__main__":
    main()
