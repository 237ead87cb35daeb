"""A lone host's worker holds jobs back while its Docker engine restarts, but not for ever.

Without the grace a dockerd restart spent one of each queued grading's three
tries on "Docker engine not reachable" (seen in tests/chaos: a submission
reached its third try). With an engine that stays down, gradings must still
end in a clear error, so the worker takes jobs again after the grace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from worksample.jobs import GRADING_QUEUE

pytestmark = [pytest.mark.redis, pytest.mark.timeout(90)]


def _status(job: Job) -> JobStatus:
    job.refresh()
    return job.get_status()


def test_lone_worker_waits_out_an_engine_restart_then_takes_jobs_anyway(data_dir: Path, redis_url: str,
                                                                         tmp_path: Path):
    from worksample.db import migrate

    migrate()
    engine = tmp_path / "engine" / "docker.sock"  # this host's engine: down
    engine.parent.mkdir()
    env = {**os.environ, "DOCKER_HOST": f"unix://{engine}", "WORKSAMPLE_WORKER_WAITS_FOR_ENGINE": "false",
           "WORKSAMPLE_WORKER_ENGINE_GRACE_S": "8"}
    log = tmp_path / "worker.log"
    job = Queue(GRADING_QUEUE, connection=Redis.from_url(redis_url)).enqueue("os.getpid")
    with open(log, "w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "not taking jobs until the Docker engine answers" not in log.read_text():
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-2000:]
            time.sleep(0.3)
        time.sleep(3)
        assert _status(job) == JobStatus.QUEUED, log.read_text()[-2000:]  # held back during the grace
        deadline = time.monotonic() + 45
        while _status(job) != JobStatus.FINISHED:  # ...and taken once it is over (its grading would say why)
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        assert "has not answered for 8 s; taking jobs again" in log.read_text()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
