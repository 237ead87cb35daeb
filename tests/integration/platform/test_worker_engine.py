"""A worker whose Docker engine is down takes no job, and takes jobs again once it answers.

With workers on several hosts (DESIGN §15), a worker serves the engine of its
own host. If that engine dies, every grading it took would fail and spend one
of the submission's bounded tries; it must leave the queue to the workers of
the other hosts instead.

A lone host's worker holds jobs back while its engine restarts, but not for
ever: without the grace a dockerd restart spent one of each queued grading's
three tries on "Docker engine not reachable" (seen in tests/chaos: a submission
reached its third try); with an engine that stays down, gradings must still end
in a clear error, so the worker takes jobs again after the grace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from worksample.jobs import GRADING_QUEUE

pytestmark = [pytest.mark.redis]

REAL_ENGINE = Path("/var/run/docker.sock")


def _status(job: Job) -> JobStatus:
    job.refresh()
    return job.get_status()


def _wait_for(condition, seconds: float, log: Path, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-2000:]
        time.sleep(0.3)


@contextmanager
def worker_without_engine(redis_url: str, tmp_path: Path, **env: str):
    """A worker (its settings from `env`) whose engine socket is absent, and one job queued for it.

    Yields (the engine socket path, the job, the worker, its log); waits until the worker says it holds
    jobs back, checks that it still does 3 s later, and stops the worker at the end.
    """
    from worksample.db import migrate

    migrate()
    engine = tmp_path / "engine" / "docker.sock"  # this host's engine: not there yet
    engine.parent.mkdir()
    log = tmp_path / "worker.log"
    job = Queue(GRADING_QUEUE, connection=Redis.from_url(redis_url)).enqueue("os.getpid")
    with open(log, "w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"],
                                  env={**os.environ, "DOCKER_HOST": f"unix://{engine}", **env},
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(lambda: "not taking jobs until the Docker engine answers" in log.read_text(), 60, log, worker)
        time.sleep(3)  # it keeps holding back, heartbeating
        assert _status(job) == JobStatus.QUEUED, log.read_text()[-2000:]
        yield engine, job, worker, log
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


@pytest.mark.docker
@pytest.mark.timeout(120)
def test_worker_waits_for_its_engine_then_takes_the_job(data_dir: Path, redis_url: str, tmp_path: Path):
    if not REAL_ENGINE.exists():
        pytest.skip("no Docker engine on the default socket")
    waiting = worker_without_engine(redis_url, tmp_path, WORKSAMPLE_WORKER_WAITS_FOR_ENGINE="true")
    with waiting as (engine, job, worker, log):
        engine.symlink_to(REAL_ENGINE)  # the engine comes (back) up
        _wait_for(lambda: _status(job) == JobStatus.FINISHED, 60, log, worker)
        assert "the Docker engine answers again" in log.read_text()


@pytest.mark.timeout(90)
def test_lone_worker_waits_out_an_engine_restart_then_takes_jobs_anyway(data_dir: Path, redis_url: str,
                                                                         tmp_path: Path):
    with worker_without_engine(redis_url, tmp_path, WORKSAMPLE_WORKER_WAITS_FOR_ENGINE="false",
                               WORKSAMPLE_WORKER_ENGINE_GRACE_S="8") as (_engine, job, worker, log):
        # Held back during the grace, and taken once it is over (its grading would say why).
        _wait_for(lambda: _status(job) == JobStatus.FINISHED, 45, log, worker)
        assert "has not answered for 8 s; taking jobs again" in log.read_text()
