"""A worker whose Docker engine is down takes no job, and takes jobs again once it answers.

With workers on several hosts (DESIGN §15), a worker serves the engine of its
own host. If that engine dies, every grading it took would fail and spend one
of the submission's bounded tries; it must leave the queue to the workers of
the other hosts instead.
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

pytestmark = [pytest.mark.redis, pytest.mark.docker, pytest.mark.timeout(120)]

REAL_ENGINE = Path("/var/run/docker.sock")


def _status(job: Job) -> JobStatus:
    job.refresh()
    return job.get_status()


def _wait_for(condition, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.5)


def test_worker_waits_for_its_engine_then_takes_the_job(data_dir: Path, redis_url: str, tmp_path: Path):
    if not REAL_ENGINE.exists():
        pytest.skip("no Docker engine on the default socket")
    from worksample.db import migrate

    migrate()
    engine = tmp_path / "engine" / "docker.sock"  # this host's engine: not there yet
    engine.parent.mkdir()
    env = {**os.environ, "DOCKER_HOST": f"unix://{engine}", "WORKSAMPLE_WORKER_WAITS_FOR_ENGINE": "true"}
    log = tmp_path / "worker.log"
    job = Queue(GRADING_QUEUE, connection=Redis.from_url(redis_url)).enqueue("os.getpid")
    with open(log, "w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(lambda: "not taking jobs until the Docker engine answers" in log.read_text(), 60, log)
        time.sleep(3)  # it keeps holding back, heartbeating
        assert _status(job) == JobStatus.QUEUED, log.read_text()[-2000:]

        engine.symlink_to(REAL_ENGINE)  # the engine comes (back) up
        _wait_for(lambda: _status(job) == JobStatus.FINISHED, 60, log)
        assert "the Docker engine answers again" in log.read_text()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
