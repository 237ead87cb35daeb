"""Fault-suite fixtures: a real Redis, real worker processes (spawned work horses), real grading pods.

Each scenario queues and runs gradings of the grading tests' small task, breaks
one component for real, and then checks the invariants of issue 13: nothing
saved is lost, each submission ends in exactly one report, no orphan container
or process. `bench/chaos.py` runs the scenarios in sequence and prints a table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

READ = "import csv, os\nrows = list(csv.DictReader(open('data/numbers.csv')))\ntotal = sum(int(r['n']) for r in rows)"
GOOD = "os.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write(str(total))\nprint('DONE')"


@pytest.fixture
def submit(data_dir, minitask, tmp_path):
    """submit(cells) → the id of a queued, enqueued submission of the small task."""
    from worksample.db import migrate
    from worksample.grading import submissions
    from worksample.jobs.grading import enqueue_grading

    migrate()
    task = submissions.register_task(minitask.make_task(tmp_path / "tasks"))

    def make(cells: list[str], enqueue: bool = True) -> str:
        artifacts = tmp_path / f"sub{len(list(tmp_path.glob('sub*')))}"
        minitask.submission(artifacts / "workspace", cells)
        sid = submissions.create_submission(task, artifacts)
        if enqueue:
            enqueue_grading(sid)
        return sid

    return make


@pytest.fixture
def workers(worker_env, data_dir):
    """start(reap_every=0) → a `worksample worker` in its own session; all killed, their pods removed after."""
    procs: list[subprocess.Popen] = []

    def start(reap_every: float = 0, env: dict | None = None) -> subprocess.Popen:
        log = open(data_dir / f"worker{len(procs)}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", str(reap_every)],
                                env=env or worker_env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    remove_pods()


def remove_pods() -> None:
    """Remove this platform's pods (the data dir's), as `up` does when it stops."""
    from worksample import sandbox

    for pod in sandbox.default_backend().list_pods():
        sandbox.remove(pod.id)


def wait_final(submission_ids: list[str], timeout: float) -> dict[str, str]:
    """Wait until every submission is graded or error; their statuses."""
    from worksample.grading import submissions

    deadline = time.monotonic() + timeout
    while True:
        statuses = {sid: submissions.get_submission(sid).status.value for sid in submission_ids}
        if all(s in ("graded", "error") for s in statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.5)


def wait_status(submission_id: str, wanted: set[str], timeout: float) -> str:
    """Wait for one submission to reach one of `wanted`; its status."""
    from worksample.grading import submissions

    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = submissions.get_submission(submission_id).status.value
        if status in wanted:
            return status
        time.sleep(0.2)
    return status


def assert_one_report_each(submission_ids: list[str]) -> None:
    """Every submission has exactly one report (version 1)."""
    from worksample.grading import submissions

    versions = {sid: submissions.report_versions(sid) for sid in submission_ids}
    assert all(v == [1] for v in versions.values()), versions


def grading_containers(data_dir: Path) -> list[str]:
    """Grading containers of this test's platform that are still there (DOCKER_HOST's engine)."""
    out = subprocess.run(["docker", "ps", "-aq", "--filter", "label=worksample.test=1", "--filter",
                          "label=worksample.purpose=grading", "--filter", f"label=worksample.data_dir={data_dir}"],
                         capture_output=True, text=True)
    return out.stdout.split()


def reports_per_submission(submission_ids: list[str]) -> dict[str, int]:
    """How many reports each submission has (exactly one is the invariant)."""
    from worksample.grading import submissions

    return {sid: len(submissions.report_versions(sid)) for sid in submission_ids}


def record(submission_ids: list[str], data_dir: Path, lost: int = 0, orphans: list | None = None, **extra) -> dict:
    """Write the scenario's figures for bench/chaos.py's table (the file WORKSAMPLE_CHAOS_RESULTS names).

    `lost`: saved things missing afterwards (files, submissions with no report); `orphans`:
    containers or processes left behind. Called before the test asserts, so a failing run
    still shows what it saw.
    """
    counts = reports_per_submission(submission_ids)
    figures = {"submissions": len(submission_ids), "reports": sorted(counts.values()),
               "lost": lost + sum(1 for n in counts.values() if n == 0),
               "orphans": len(orphans if orphans is not None else grading_containers(data_dir)), **extra}
    path = os.environ.get("WORKSAMPLE_CHAOS_RESULTS")
    if path:
        Path(path).write_text(json.dumps(figures))
    return figures
