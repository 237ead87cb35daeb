"""What a live `worksample worker` does by itself, with nobody calling its functions by hand.

- the grading reconciler runs on its own: a submission whose job was lost
  (queued in the database, nothing in Redis) is graded without anyone calling
  `reconcile()`. (The RQ deadline job in a real worker: attempts/test_deadline_job.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def live_worker(db, redis_url, data_dir):
    """start(*args) → a `worksample worker` process with this test's data dir and Redis; killed at the end."""
    procs: list[subprocess.Popen] = []
    logs = []
    env = {**os.environ, "WORKSAMPLE_DATA_DIR": str(data_dir), "REDIS_URL": redis_url,
           "WORKSAMPLE_GRADING_POD_LABELS": "worksample.test=1"}

    def start(*args: str) -> subprocess.Popen:
        log = open(data_dir / f"worker{len(procs)}.log", "w")
        logs.append(log)
        proc = subprocess.Popen([sys.executable, "-m", "worksample", "worker", *args], env=env,
                                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
    for log in logs:
        log.close()
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=worksample.data_dir={data_dir}"],
                          capture_output=True, text=True).stdout.split()
    if left:
        subprocess.run(["docker", "rm", "-f", *left], capture_output=True)


def _status(submission_id: str) -> str:
    from worksample.grading import submissions

    return submissions.get_submission(submission_id).status.value


def _wait(predicate, timeout: float, what: str, log=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout:.0f}s" + (f"\n{log.read_text()[-3000:]}" if log else ""))


@pytest.mark.timeout(300)
def test_the_reconciler_runs_by_itself_in_a_live_worker(live_worker, tmp_path, minitask, data_dir):
    from sqlalchemy import update

    from worksample.db import Submission, session_scope
    from worksample.db.models import utcnow
    from worksample.grading import submissions
    from worksample.jobs.grading import queued_job_count

    task = submissions.register_task(minitask.make_task(tmp_path / "tasks"))
    artifacts = tmp_path / "sub"
    minitask.submission(artifacts / "workspace", minitask.GOOD_CELLS)
    sid = submissions.create_submission(task, artifacts)  # queued in the database; its job was "lost"
    with session_scope() as db:  # it has waited longer than the reconciler's patience
        db.execute(update(Submission).where(Submission.id == sid)
                   .values(updated_at=utcnow() - timedelta(seconds=submissions.STALE_QUEUED_S + 30)))
    assert queued_job_count() == 0
    live_worker("--reap-every", "2")
    _wait(lambda: _status(sid) in ("graded", "error"), 240, "the live worker did not grade the lost submission",
          data_dir / "worker0.log")
    assert _status(sid) == "graded", submissions.get_submission(sid).error
    assert submissions.report_versions(sid) == [1]
