"""Load of a hiring round on one machine: A attempts opened at once, then S submissions queued at once.

    .venv/bin/python bench/load.py [--attempts 50] [--submissions 100] [--workers N] [--grade-task mini|flagship]

A real `worksample serve`, a redis-server and N `worksample worker`s (default
one per core) on a fresh data dir under var/bench/. Phase 1 opens every attempt
at once: Start, JupyterLab answering, a kernel, and code in that kernel that
calls the pod's mock LLM. Phase 2 queues every submission at once (copies of
the grading task's reference) and waits for the queue to drain. Throughout, a
prober requests the platform's own pages (the landing page, the workspace
page, /api/v1/tasks, /healthz) every 0.5 s. Printed: errors, p95 attempt
start, drain time, p95 queue wait, peak host memory above the start, and the
pages' p95. Everything it made is removed.

`--grade-task mini` (default) grades the small task of the grading tests
(seconds per grading), `flagship` the attempts' own task (minutes per grading).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import httpx

from figures import pct  # bench/, beside this file

REPO = Path(__file__).resolve().parents[1]
MOCK_CALL = (
    "import json, os, urllib.request\n"
    "req = urllib.request.Request(os.environ['OPENAI_BASE_URL'] + '/chat/completions',\n"
    "    data=json.dumps({'model': 'atlas-mini', 'messages': [{'role': 'user', 'content': 'ping'}]}).encode(),\n"
    "    headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY'], 'Content-Type': 'application/json'})\n"
    "for attempt in range(8):\n"
    "    try:\n"
    "        reply = json.load(urllib.request.urlopen(req, timeout=30)); break\n"
    "    except Exception as exc:\n"
    "        import time; time.sleep(1 + attempt)\n"
    "print('MOCK', 'choices' in reply)\n"
)


def _load(name: str, path: Path):
    spec = spec_from_file_location(name, path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


attempt_bench = _load("bench_attempt_start", REPO / "bench" / "attempt_start.py")
grading_bench = _load("bench_grading_throughput", REPO / "bench" / "grading_throughput.py")


def loadavg() -> list[float]:
    """The 1-, 5- and 15-minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def host_used_mib() -> float:
    """Memory in use on the host (MemTotal - MemAvailable), MiB."""
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return (int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])) / 1024


class Sampler(threading.Thread):
    """Every `every` s: the platform pages' latency (and status) and the host's memory in use."""

    def __init__(self, bench, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.bench, self.every = bench, every
        self.pages: dict[str, str] = {"healthz": "/healthz"}
        self.cookies: dict[str, str] = {}
        self.latency: list[float] = []
        self.bad: list[str] = []
        self.peak = self.base = host_used_mib()
        self.load_peak = 0.0  # the highest 1-minute load average seen (the machine is shared: figures need it)
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.bench.admin}"}
        with httpx.Client(base_url=self.bench.url, timeout=30) as client:
            while not self.stop.wait(self.every):
                self.peak = max(self.peak, host_used_mib())
                self.load_peak = max(self.load_peak, loadavg()[0])
                for name, path in list(self.pages.items()):
                    t0 = time.perf_counter()
                    try:
                        resp = client.get(path, headers=headers, cookies=self.cookies)
                        if resp.status_code >= 400:
                            self.bad.append(f"{name} {resp.status_code}")
                    except httpx.HTTPError as exc:
                        self.bad.append(f"{name} {type(exc).__name__}")
                    self.latency.append(time.perf_counter() - t0)


def _unmount_under(root: Path) -> None:
    for line in Path("/proc/mounts").read_text().splitlines():
        target = line.split()[1]
        if target.startswith(str(root) + "/"):
            subprocess.run(["umount", "-l", target], capture_output=True)


def open_one(bench, token: str) -> dict:
    """Start an attempt and a kernel, then call the mock from the kernel; timings and errors."""
    opened = {"error": None}
    try:
        opened.update(bench.open_attempt(token))
        code = {"code": MOCK_CALL, "silent": False, "store_history": False, "user_expressions": {},
                "allow_stdin": False, "stop_on_error": True}
        reply = bench.request(opened, "execute_request", code, "stream")["content"]["text"]
        if "MOCK True" not in reply:
            opened["error"] = f"mock call: {reply.strip()[:120]}"
    except httpx.HTTPStatusError as exc:  # a refused start is a figure here: say what the platform said
        opened["error"] = f"{exc.response.status_code} {exc.response.text[:200]}"
    except Exception as exc:  # a failed start is a figure here, not a crash of the bench
        opened["error"] = f"{type(exc).__name__}: {str(exc)[:160]}"
    return opened


def queue_submissions(args, data_dir: Path, n: int, bench) -> tuple[list[str], float]:
    """Stage `n` submissions of the grading task and enqueue them all at once; (ids, enqueue time)."""
    from worksample.grading import submissions
    from worksample.jobs.grading import enqueue_grading

    if args.grade_task == "mini":
        minitask = _load("bench_minitask", REPO / "tests" / "integration" / "grading" / "minitask.py")
        folder = minitask.make_task(data_dir.parent / "grade-tasks")
    else:
        folder = bench.root / "tasks" / bench.slug
    task = submissions.register_task(folder)
    ids = grading_bench._submit(task, folder / "solution", n)
    began = time.time()
    for sid in ids:
        enqueue_grading(sid)
    return ids, began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=50)
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--grade-task", choices=["mini", "flagship"], default="mini")
    args = parser.parse_args()

    root = REPO / "var" / "bench" / f"load-{attempt_bench.RUN}"
    bench = attempt_bench.Bench(root)
    data_dir = root / "data"
    redis, redis_url = grading_bench.start_redis(root)
    bench.env["REDIS_URL"] = redis_url
    os.environ.update(WORKSAMPLE_DATA_DIR=str(data_dir), REDIS_URL=redis_url,
                      WORKSAMPLE_TASKS_DIR=bench.env["WORKSAMPLE_TASKS_DIR"])
    worker_env = {**bench.env, "WORKSAMPLE_GRADING_POD_LABELS": f"worksample.bench={attempt_bench.RUN}"}
    workers, sampler = [], None
    try:
        bench.start()
        workers = [subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"],
                                    env=worker_env, stdout=subprocess.DEVNULL,
                                    stderr=open(root / f"worker{i}.log", "w")) for i in range(args.workers)]
        tokens = [bench.invite() for _ in range(args.attempts)]
        sampler = Sampler(bench)
        sampler.pages["landing"] = f"/c/{tokens[0]}"
        sampler.pages["tasks"] = "/api/v1/tasks"
        sampler.start()

        # Phase 1: every attempt at once.
        load_before = loadavg()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max(1, args.attempts)) as pool:
            opened = list(pool.map(lambda token: open_one(bench, token), tokens))
        phase1 = time.perf_counter() - t0
        load_phase1, peak_phase1 = loadavg(), sampler.load_peak
        good = [o for o in opened if not o["error"]]
        if good:
            sampler.cookies = {"ws_attempt": good[0]["cookie"]}
            sampler.pages["workspace"] = f"/w/{good[0]['attempt_id']}/"
        pages_phase1 = list(sampler.latency)

        # Phase 2: every submission at once, with the attempts still open.
        ids, began = queue_submissions(args, data_dir, args.submissions, bench)
        grading_bench._wait_all(ids, timeout=4 * 3600)
        rows = grading_bench._measure(ids)
        drain = max(r["done_at"].timestamp() for r in rows) - began
        load_phase2 = loadavg()
    finally:
        if sampler is not None:
            sampler.stop.set()
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=60)
        bench.close()
        _unmount_under(root)  # the pods' tmpfs /ipc mounts: bench.close removes containers, not pod dirs
        redis.terminate()
        redis.wait(timeout=10)

    from worksample.grading import submissions

    waits = [submissions.latest_report(sid).body.get("timings", {}).get("queue_wait_s", 0.0) for sid in ids]
    starts = [o["ready_s"] for o in good]
    errors = [o["error"] for o in opened if o["error"]] + [f"submission {r['status']}" for r in rows
                                                          if r["status"] != "graded"]
    print(f"load: {args.attempts} attempts at once, then {args.submissions} submissions at once "
          f"({args.grade_task} task), {args.workers} workers, {os.cpu_count()} cores, "
          f"WORKSAMPLE_START_CONCURRENCY={os.environ.get('WORKSAMPLE_START_CONCURRENCY', '(default)')}")
    print(f"  load average                 before {load_before}; end of starts {load_phase1} (peak 1-min "
          f"{peak_phase1:.1f}); end of drain {load_phase2} (peak 1-min {sampler.load_peak:.1f})")
    print(f"  errors                       {len(errors)}" + (f"  e.g. {errors[:3]}" if errors else ""))
    if starts:
        print(f"  attempt start → kernel idle  p50 {pct(starts, .5):.1f} s  p95 {pct(starts, .95):.1f} s  "
              f"(all {len(starts)} open and calling the mock in {phase1:.1f} s)")
    print(f"  queue drained in             {drain:.1f} s  ({len(ids) / drain * 60:.1f} gradings/min)")
    print(f"  queue wait                   p50 {pct(waits, .5):.1f} s  p95 {pct(waits, .95):.1f} s")
    print(f"  peak host memory in use      {sampler.peak:.0f} MiB ({sampler.peak - sampler.base:+.0f} MiB "
          f"over the start; the host is shared)")
    lat = sampler.latency
    print(f"  platform pages               p50 {pct(lat, .5) * 1000:.0f} ms  p95 {pct(lat, .95) * 1000:.0f} ms  "
          f"(during starts p95 {pct(pages_phase1 or lat, .95) * 1000:.0f} ms; {len(lat)} requests, "
          f"{len(sampler.bad)} not ok{': ' + str(sampler.bad[:3]) if sampler.bad else ''})")
    if errors:
        print(f"  logs kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
