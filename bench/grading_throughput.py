"""Grading throughput: N copies of a task's reference submitted at once, W workers.

Prints submissions per minute, p50/p95 submit → report, the grading overhead
ratio (claim → report ÷ (notebook run + suite run)) and, at an idle queue,
submit → grading pod running (queue wait + pod start).

    .venv/bin/python bench/grading_throughput.py [--copies 20] [--workers 2] [--task support-ticket-triage]

Uses a fresh data dir under var/bench/, its own redis-server and real
`worksample worker` processes; every pod it makes is labelled worksample.bench=1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test suite's throwaway redis-server

from figures import pct  # noqa: E402  (bench/, beside this file)
from scratch_redis import start_redis  # noqa: E402


def _env(data_dir: Path, redis_url: str) -> dict[str, str]:
    return {**os.environ, "WORKSAMPLE_DATA_DIR": str(data_dir), "REDIS_URL": redis_url,
            "WORKSAMPLE_GRADING_POD_LABELS": "worksample.bench=1"}


def _submit(task, solution: Path, n: int) -> list[str]:
    from worksample.config import get_settings
    from worksample.db.models import new_id
    from worksample.grading import submissions
    from worksample.grading.local import stage_submission

    ids = []
    for _ in range(n):
        sid = new_id()
        artifacts = get_settings().resolved_data_dir / "submissions" / sid
        stage_submission(solution, task.spec["workspace"]["entrypoint"], artifacts / "workspace")
        ids.append(submissions.create_submission(task, artifacts, sid))
    return ids


def _wait_all(ids: list[str], timeout: float) -> None:
    from worksample.grading import submissions

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [submissions.get_submission(i).status.value for i in ids]
        if all(s in ("graded", "error") for s in states):
            return
        time.sleep(1)
    raise SystemExit(f"timed out: {states}")


def _measure(ids: list[str]) -> list[dict]:
    from worksample.grading import submissions

    rows = []
    for sid in ids:
        sub, report = submissions.get_submission(sid), submissions.latest_report(sid)
        timings = report.body.get("timings", {})
        e2e = (report.created_at - sub.created_at).total_seconds()
        busy = e2e - timings.get("queue_wait_s", 0.0)
        rows.append({"status": sub.status.value, "score": report.score, "e2e": e2e, "busy": busy,
                     "work": timings.get("notebook_s", 0.0) + timings.get("grader_s", 0.0),
                     "to_pod": timings.get("queue_wait_s", 0.0) + timings.get("pod_start_s", 0.0),
                     "done_at": report.created_at})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--task", default="support-ticket-triage")
    args = parser.parse_args()

    root = REPO / "var" / "bench" / f"grading-{os.getpid()}"
    data_dir = root / "data"
    data_dir.mkdir(parents=True)
    redis, redis_url = start_redis(root)
    os.environ.update(_env(data_dir, redis_url))
    from worksample.db import migrate
    from worksample.grading import submissions
    from worksample.grading.local import task_folder
    from worksample.jobs.grading import enqueue_grading

    migrate()
    folder = task_folder(args.task)
    task = submissions.register_task(folder)
    workers = [subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"],
                                env=_env(data_dir, redis_url), stdout=subprocess.DEVNULL,
                                stderr=open(root / f"worker{i}.log", "w")) for i in range(args.workers)]
    try:
        time.sleep(2)  # workers connected and idle
        ids = _submit(task, folder / "solution", args.copies)
        started = time.time()
        for sid in ids:
            enqueue_grading(sid)
        _wait_all(ids, timeout=60 * 60)
        batch = _measure(ids)
        idle_ids = _submit(task, folder / "solution", 1)
        enqueue_grading(idle_ids[0])
        _wait_all(idle_ids, timeout=15 * 60)
        idle = _measure(idle_ids)[0]
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=30)
        redis.terminate()
        ids_left = subprocess.run(["docker", "ps", "-aq", "--filter", "label=worksample.bench=1", "--filter",
                                   f"label=worksample.data_dir={data_dir}"], capture_output=True, text=True).stdout.split()
        if ids_left:
            subprocess.run(["docker", "rm", "-f", *ids_left], capture_output=True)

    span = max(r["done_at"].timestamp() for r in batch) - started
    e2e = [r["e2e"] for r in batch]
    ratios = [r["busy"] / r["work"] for r in batch if r["work"] > 0]
    print(f"task {args.task}: {args.copies} copies of the reference, {args.workers} workers")
    print(f"  graded {sum(r['status'] == 'graded' for r in batch)}/{len(batch)}, "
          f"scores {sorted({r['score'] for r in batch})}")
    print(f"  throughput           {len(batch) / span * 60:.2f} submissions/min ({span:.1f} s for the batch)")
    print(f"  submit -> report     p50 {statistics.median(e2e):.1f} s, p95 {pct(e2e, 0.95):.1f} s")
    print(f"  overhead ratio       p50 {statistics.median(ratios):.3f} (claim->report / (notebook + suite)), "
          f"max {max(ratios):.3f}")
    print(f"  idle queue: submit -> grading pod running {idle['to_pod']:.3f} s; "
          f"submit -> report {idle['e2e']:.1f} s (overhead ratio {idle['busy'] / idle['work']:.3f})")
    shutil.rmtree(data_dir / "submissions", ignore_errors=True)


if __name__ == "__main__":
    main()
