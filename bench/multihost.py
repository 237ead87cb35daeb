"""Deadline spike across two Docker engines: one Redis, one PostgreSQL, workers on each engine.

Stands in for two worker hosts on this one machine: a second `dockerd` with its
own socket, data root and exec root (and its own managed containerd), the
sandbox images loaded into it with `docker save | docker load` (no registry).
Then it queues N copies of a task's reference at once and prints, per run:
time to drain, p50/p95 queue wait, how many each engine graded, and that every
submission ended in exactly one report (0 lost, 0 doubled). With
`--kill-engine2-after K` the second engine is stopped (SIGKILL to its dockerd
and containerd) once K reports exist: its running gradings must be retried on
the first engine and nothing may be lost.

    .venv/bin/python bench/multihost.py [--copies 20] [--workers-per-engine 1] [--kill-engine2-after 0]

Everything it makes lives under var/bench/multihost-<pid>/ and a short /tmp
dir for sockets; both engines' pods carry worksample.bench=1 and are removed.
The second engine is the fault suite's `PrivateEngine` (tests/chaos): a bridge
of its own and no iptables, never `--bridge none`, which deletes the first
engine's `docker0` at start-up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the throwaway PostgreSQL of the test suite
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "chaos"))  # the fault suite's private second engine

from private_engine import PrivateEngine  # noqa: E402
from grading_throughput import _pct as pct, _submit as submit  # noqa: E402
from scratch_redis import start_redis  # noqa: E402


def load_images(engine: PrivateEngine) -> float:
    """Copy the sandbox images the task needs from the default engine into `engine`; return seconds."""
    from worksample.images import require

    started = time.monotonic()
    engine.load_images([require(name) for name in ("notebook", "grader", "mockllm")])
    return time.monotonic() - started


def worker_env(base: dict[str, str], docker_host: str | None) -> dict[str, str]:
    env = {**base, "WORKSAMPLE_GRADING_POD_LABELS": "worksample.bench=1", "WORKSAMPLE_WORKER_WAITS_FOR_ENGINE": "true"}
    env.pop("DOCKER_HOST", None)
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    return env


def reports_per_submission(ids: list[str]) -> dict[str, int]:
    from sqlalchemy import func, select

    from worksample.db import session_scope
    from worksample.db.models import Report

    with session_scope() as s:
        rows = s.execute(select(Report.submission_id, func.count()).where(Report.submission_id.in_(ids))
                         .group_by(Report.submission_id)).all()
    counts = {sid: 0 for sid in ids}
    counts.update({sid: n for sid, n in rows})
    return counts


def engine_of_jobs(job_ids: dict[str, str], pids: dict[int, str]) -> dict[str, str]:
    """Which engine's worker finished each grading job (RQ records the worker's name; names map to pids)."""
    from rq import Worker
    from rq.job import Job

    from worksample.jobs import connection

    names = {w.name: pids.get(w.pid, "?") for w in Worker.all(connection=connection())}
    out = {}
    for sid, jid in job_ids.items():
        job = Job.fetch(jid, connection=connection())
        out[sid] = names.get(job.worker_name or "", "?")
    return out


def stop_all(procs: list, hosts: list[str | None], data_dir: Path) -> None:
    """Stop the workers and remove this run's pods on every engine."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for host in hosts:
        cmd = ["docker"] + (["-H", host] if host else [])
        left = subprocess.run(cmd + ["ps", "-aq", "--filter", "label=worksample.bench=1", "--filter",
                                     f"label=worksample.data_dir={data_dir}"], capture_output=True, text=True).stdout.split()
        if left:
            subprocess.run(cmd + ["rm", "-f", "-v", *left], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers-per-engine", type=int, default=1)
    parser.add_argument("--kill-engine2-after", type=int, default=0, help="reports before engine 2 is killed (0: never)")
    parser.add_argument("--task", default="support-ticket-triage")
    args = parser.parse_args()

    from pg_server import start_postgres

    root = REPO / "var" / "bench" / f"multihost-{os.getpid()}"
    data_dir = root / "data"
    data_dir.mkdir(parents=True)
    pg = start_postgres()
    redis, redis_url = start_redis(root)
    engine2 = PrivateEngine(root / "dockerd2.log")
    engine2.start()
    host2 = engine2.host
    base = {**os.environ, "WORKSAMPLE_DATA_DIR": str(data_dir), "REDIS_URL": redis_url,
            "DATABASE_URL": pg.create_database()}
    os.environ.update(base)
    procs: list[subprocess.Popen] = []
    try:
        print(f"images copied into engine 2 in {load_images(engine2):.1f} s")
        from worksample.db import migrate
        from worksample.grading import submissions
        from worksample.grading.local import task_folder
        from worksample.jobs.grading import enqueue_grading

        migrate()
        folder = task_folder(args.task)
        task = submissions.register_task(folder)
        pids: dict[int, str] = {}
        for engine, host in (("engine1", None), ("engine2", host2)):
            for i in range(args.workers_per_engine):
                proc = subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"],
                                        env=worker_env(base, host), stdout=subprocess.DEVNULL,
                                        stderr=open(root / f"{engine}-worker{i}.log", "w"))
                procs.append(proc)
                pids[proc.pid] = engine
        time.sleep(3)  # workers registered and idle
        ids = submit(task, folder / "solution", args.copies)
        started = time.time()
        jobs = {sid: enqueue_grading(sid) for sid in ids}
        killed_at = None
        while True:
            counts = reports_per_submission(ids)
            done = sum(1 for n in counts.values() if n)
            if args.kill_engine2_after and killed_at is None and done >= args.kill_engine2_after:
                os.killpg(engine2.proc.pid, signal.SIGKILL)  # dockerd and its managed containerd
                killed_at = time.time() - started
                print(f"engine 2 killed after {done} reports ({killed_at:.1f} s)")
            if done == len(ids):
                break
            if time.time() - started > 3600:
                raise SystemExit(f"timed out with {done}/{len(ids)} reports")
            time.sleep(1)
        drain = time.time() - started
        time.sleep(5)  # a doubled report would show up now
        counts = reports_per_submission(ids)
        rows = [(submissions.get_submission(sid), submissions.latest_report(sid)) for sid in ids]
        waits = [r.body.get("timings", {}).get("queue_wait_s", 0.0) for _, r in rows]
        engines = engine_of_jobs(jobs, pids)
    finally:
        stop_all(procs, [None, host2], data_dir)
        redis.terminate()
        engine2.remove()  # its containers, the engine, what a killed engine left mounted, its bridge
        pg.stop()

    lost = [sid for sid, n in counts.items() if n == 0]
    doubled = [sid for sid, n in counts.items() if n > 1]
    statuses = statistics.multimode([s.status.value for s, _ in rows])
    print(f"task {args.task}: {args.copies} submissions at once, {args.workers_per_engine} worker(s) per engine, "
          f"PostgreSQL + one Redis")
    print(f"  drained in           {drain:.1f} s ({len(ids) / drain * 60:.2f} submissions/min)")
    print(f"  queue wait           p50 {statistics.median(waits):.1f} s, p95 {pct(waits, 0.95):.1f} s")
    print(f"  graded by            engine1 {sum(e == 'engine1' for e in engines.values())}, "
          f"engine2 {sum(e == 'engine2' for e in engines.values())}, "
          f"unknown {sum(e == '?' for e in engines.values())}")
    print(f"  reports              lost {len(lost)}, doubled {len(doubled)}; most common status {statuses}; "
          f"scores {sorted({r.score for _, r in rows})}")
    shutil.rmtree(data_dir / "submissions", ignore_errors=True)
    if lost or doubled:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
