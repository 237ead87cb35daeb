"""Deadline spike: N small submissions queued at once, W workers on one Docker engine or on two.

    .venv/bin/python bench/spike.py [--copies 100] [--workers 2] [--engines 1]
    .venv/bin/python bench/spike.py --engines 2      # the workers split over this engine and a second dockerd

A deadline that many candidates share ends in a burst of hand-ins; this is that
burst, sized so that 100 fit in minutes: the submission is the grading tests'
small task (tests/integration/grading/minitask.py) with its reference notebook
(3 cells: read a 4-row CSV from the hold-out data, write the sum to
outputs/result.txt, print DONE; no LLM call) and its 3-check hidden suite, so
each grading is the platform's fixed cost (grading pod with its mock, kernel
over ipc, copy-out, grader container) and little else. The rows are created
first; then every job is enqueued at once, which is the instant the clock
starts (a real deadline queues them through `submit_attempt`, the same job).

`--engines 1`: W `worksample worker` processes on this machine's engine, SQLite
and one Redis (deployment shape 1). `--engines 2`: the W workers alternate
between this engine and a private second dockerd standing in for a second host
(tests/chaos/private_engine.PrivateEngine: own socket, data and exec root, its
own bridge, no iptables; the images copied in with docker save | load), on one
Redis and a throwaway PostgreSQL (shape 2; the database must be shared).

Prints: time to drain (enqueue → last report), gradings per minute, queue wait
(enqueue → a worker's claim) p50/p95/max, lost (no report) and doubled (two
reports), how many each engine graded, the statuses and scores, and the load
average (1 min) at the start, its mean and max while draining, at the end.
Everything it makes lives under var/bench/spike-<pid>/ and is removed; its
pods carry worksample.bench=1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test suite's throwaway Redis and PostgreSQL
sys.path.insert(0, str(REPO / "tests" / "chaos"))  # the fault suite's private second engine
sys.path.insert(0, str(REPO / "bench"))

from grading_throughput import _pct as pct, _submit as stage  # noqa: E402
from multihost import engine_of_jobs, load_images, reports_per_submission, stop_all, worker_env  # noqa: E402
from private_engine import PrivateEngine, docker0_present  # noqa: E402
from scratch_redis import start_redis  # noqa: E402


def minitask_module():
    """The grading tests' small-task helper (a file, not a package)."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("spike_minitask", REPO / "tests" / "integration" / "grading" / "minitask.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def use_environment(env: dict[str, str]) -> None:
    """Make `env` this process's environment, and the settings read from it (data dir, Redis, database)."""
    from worksample.config import get_settings

    os.environ.clear()
    os.environ.update(env)
    get_settings.cache_clear()


class LoadSampler:
    """Samples the 1-minute load average every second in a thread until stopped."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def start_workers(root: Path, base: dict[str, str], hosts: list[str | None], n: int) -> tuple[list, dict[int, str]]:
    """`n` workers, the i-th on engine hosts[i % len(hosts)] (None: this machine's); (processes, pid → engine)."""
    procs, engines = [], {}
    for i in range(n):
        host = hosts[i % len(hosts)]
        name = f"engine{i % len(hosts) + 1}"
        with open(root / f"worker{i}-{name}.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"],
                                    env=worker_env(base, host), stdout=subprocess.DEVNULL, stderr=log)
        procs.append(proc)
        engines[proc.pid] = name
    return procs, engines


def drain(ids: list[str], started: float, timeout: float) -> float:
    """Wait until every submission has a report; seconds from `started` (SystemExit on timeout)."""
    while True:
        done = sum(1 for n in reports_per_submission(ids).values() if n)
        if done == len(ids):
            return time.time() - started
        if time.time() - started > timeout:
            raise SystemExit(f"timed out with {done}/{len(ids)} reports")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="worker processes in all (split over the engines)")
    parser.add_argument("--engines", type=int, choices=(1, 2), default=1)
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds of draining")
    args = parser.parse_args()

    root = REPO / "var" / "bench" / f"spike-{os.getpid()}"
    data_dir = root / "data"
    data_dir.mkdir(parents=True)
    redis, redis_url = start_redis(root)
    base = {**os.environ, "WORKSAMPLE_DATA_DIR": str(data_dir), "REDIS_URL": redis_url}
    base.pop("DATABASE_URL", None)
    pg = engine2 = None
    hosts: list[str | None] = [None]
    procs: list = []
    try:
        if args.engines == 2:
            from pg_server import start_postgres

            pg = start_postgres()
            base["DATABASE_URL"] = pg.create_database()
        use_environment(base)
        if args.engines == 2:
            engine2 = PrivateEngine(root / "dockerd2.log")
            engine2.start()
            hosts.append(engine2.host)
            print(f"images copied into engine 2 in {load_images(engine2):.1f} s", flush=True)
        from worksample.db import migrate
        from worksample.grading import submissions
        from worksample.jobs.grading import enqueue_grading

        migrate()
        folder = minitask_module().make_task(root / "tasks")
        task = submissions.register_task(folder)
        procs, engines = start_workers(root, base, hosts, args.workers)
        ids = stage(task, folder / "solution", args.copies)
        time.sleep(3)  # workers registered and idle
        load_before = os.getloadavg()[0]
        with LoadSampler() as load:
            started = time.time()
            jobs = {sid: enqueue_grading(sid) for sid in ids}
            drained = drain(ids, started, args.timeout)
        load_after = os.getloadavg()[0]
        time.sleep(5)  # a doubled report would show up now
        counts = reports_per_submission(ids)
        rows = [(submissions.get_submission(sid), submissions.latest_report(sid)) for sid in ids]
        waits = [s.created_at.timestamp() + r.body.get("timings", {}).get("queue_wait_s", 0.0) - started
                 for s, r in rows]
        by_engine = engine_of_jobs(jobs, engines)
    finally:
        stop_all(procs, hosts, data_dir)
        redis.terminate()
        if engine2 is not None:
            engine2.remove()
            print(f"main engine's docker0 still present: {docker0_present()}")
        if pg is not None:
            pg.stop()

    lost = [sid for sid, n in counts.items() if n == 0]
    doubled = [sid for sid, n in counts.items() if n > 1]
    statuses = {s: sum(1 for sub, _ in rows if sub.status.value == s) for s in {sub.status.value for sub, _ in rows}}
    shape = "this engine" if args.engines == 1 else "this engine and a second dockerd"
    print(f"spike: {args.copies} submissions of the small task (3-cell reference) enqueued at once, "
          f"{args.workers} workers on {shape}, {'SQLite' if args.engines == 1 else 'PostgreSQL'} + one Redis")
    print(f"  drained in          {drained:.1f} s  ({len(ids) / drained * 60:.1f} gradings/min)")
    print(f"  queue wait          p50 {statistics.median(waits):.1f} s, p95 {pct(waits, 0.95):.1f} s, "
          f"max {max(waits):.1f} s  (enqueue → a worker's claim)")
    print(f"  reports             lost {len(lost)}, doubled {len(doubled)}; statuses {statuses}; "
          f"scores {sorted({r.score for _, r in rows})}")
    graded_by = {e: sum(v == e for v in by_engine.values()) for e in sorted(set(by_engine.values()) | set(engines.values()))}
    print("  graded by           " + ", ".join(f"{e if e != '?' else 'unknown worker'} {n}" for e, n in graded_by.items()))
    print(f"  load average (1m)   start {load_before:.1f}, while draining mean "
          f"{statistics.mean(load.samples or [load_after]):.1f} max {max(load.samples or [load_after]):.1f}, "
          f"end {load_after:.1f}  ({os.cpu_count()} cores)")
    shutil.rmtree(root, ignore_errors=True)
    if lost or doubled:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
