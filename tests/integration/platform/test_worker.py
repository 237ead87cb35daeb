"""`worksample worker` against a real Redis: jobs never stall silently, and stop leaves nothing behind.

Defect 1 of issue 13: a job queued before the worker started was run by a
forked work horse that inherited an import lock another thread (the reaper)
held at fork time; it waited forever and nothing said so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from worksample.jobs import GRADING_QUEUE
from worksample.supervisor import descendants

pytestmark = pytest.mark.redis

VENV_BIN = Path(sys.executable).parent

# Makes importing the named modules slow in any process started with WS_TEST_SLOW_IMPORT set: what a
# loaded machine or a cold disk does to a big import, stretched so the race is certain, not lucky.
SLOW_IMPORT = textwrap.dedent('''
    import importlib.machinery, os, sys, time

    _SLOW = set(filter(None, os.environ.get("WS_TEST_SLOW_IMPORT", "").split(",")))

    class _SlowFinder:
        def find_spec(self, name, path=None, target=None):
            if name not in _SLOW:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            real = spec.loader.exec_module
            def exec_module(module):
                time.sleep(float(os.environ.get("WS_TEST_SLOW_IMPORT_S", "4")))
                real(module)
            spec.loader.exec_module = exec_module
            return spec

    if _SLOW:
        sys.meta_path.insert(0, _SlowFinder())
''')

# A job whose module never finishes importing: the horse makes no progress at all.
STUCK_JOB = "import time\ntime.sleep(600)\n\ndef work():\n    return 1\n"


def _start_worker(tmp_path: Path, env_extra: dict[str, str], *args: str) -> tuple[subprocess.Popen, Path]:
    from worksample.db import migrate

    migrate()  # the reconciler in the worker reads the submissions table
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SLOW_IMPORT)
    (site / "stuck_job.py").write_text(STUCK_JOB)
    log = tmp_path / "worker.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
               **env_extra)
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(VENV_BIN / "worksample"), "worker", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def _stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_status(job: Job, statuses: set[JobStatus], timeout: float) -> JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job.get_status(refresh=True)
        if status in statuses:
            return status
        time.sleep(0.2)
    return job.get_status(refresh=True)


def _pids_in_group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except ProcessLookupError:
                continue
    return pids


@pytest.mark.timeout(90)
def test_job_queued_before_start_runs_while_another_import_is_slow(tmp_path, data_dir, redis_url):
    conn = Redis.from_url(redis_url)
    job = Queue(GRADING_QUEUE, connection=conn).enqueue("worksample.jobs.grading.queued_job_count")
    proc, log = _start_worker(tmp_path, {"WS_TEST_SLOW_IMPORT": "worksample.jobs.grading"})
    try:
        status = _wait_status(job, {JobStatus.FINISHED, JobStatus.FAILED}, timeout=45)
        assert status == JobStatus.FINISHED, f"job {status}; worker log:\n{log.read_text()}"
        assert job.return_value() == 0
    finally:
        _stop_worker(proc)


@pytest.mark.timeout(90)
def test_watchdog_kills_a_horse_without_progress_says_so_and_goes_on(tmp_path, data_dir, redis_url):
    from worksample.jobs.watchdog import recent_stalls

    conn = Redis.from_url(redis_url)
    queue = Queue(GRADING_QUEUE, connection=conn)
    stuck = queue.enqueue("stuck_job.work", description="stuck on purpose")
    after = queue.enqueue("worksample.jobs.grading.queued_job_count")
    proc, log = _start_worker(tmp_path, {"WORKSAMPLE_JOB_STALL_S": "10"}, "--reap-every", "0")
    try:
        assert _wait_status(stuck, {JobStatus.FAILED}, timeout=60) == JobStatus.FAILED, log.read_text()
        assert _wait_status(after, {JobStatus.FINISHED}, timeout=30) == JobStatus.FINISHED, log.read_text()
        stalls = recent_stalls(conn)
        assert [s.job_id for s in stalls] == [stuck.id]
        assert stalls[0].stage == "importing" and stalls[0].silent_s >= 10
        assert not _pids_in_group(stalls[0].horse_pid), "the stuck horse is still running"
        text = log.read_text()
        assert f"job {stuck.id} (stuck on purpose) made no progress" in text
        assert "no progress" in stuck.get_meta(refresh=True)["watchdog"]
    finally:
        _stop_worker(proc)


@pytest.mark.timeout(60)
def test_sigterm_stops_a_busy_worker_at_once_and_kills_its_horse(tmp_path, data_dir, redis_url):
    conn = Redis.from_url(redis_url)
    job = Queue(GRADING_QUEUE, connection=conn).enqueue("time.sleep", 600)
    proc, log = _start_worker(tmp_path, {}, "--reap-every", "0")
    try:
        assert _wait_status(job, {JobStatus.STARTED}, timeout=20) == JobStatus.STARTED, log.read_text()
        time.sleep(1)
        below = descendants(proc.pid)
        assert any(b"time.sleep" in Path(f"/proc/{p}/cmdline").read_bytes() or _is_horse(p) for p in below)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - started < 5
        assert proc.returncode == 0, log.read_text()
        time.sleep(0.5)
        assert not [p for p in below if _alive(p)], log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        _stop_worker(proc)


def _is_horse(pid: int) -> bool:
    try:
        return b"main_work_horse" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.timeout(30)
def test_up_prints_a_stall_the_watchdog_recorded(redis_url, capsys):
    from worksample.jobs.watchdog import Stall, record_stall
    from worksample.up import _StallReporter

    reporter = _StallReporter(redis_url)
    reporter.poll()  # records from before this `up` started are not news
    record_stall(Redis.from_url(redis_url), Stall(job_id="j1", description="grade submission s1", stage="importing",
                                                  silent_s=61.0, horse_pid=4242, at=time.time()))
    reporter._next = 0.0
    reporter.poll()
    err = capsys.readouterr().err
    assert "WARNING: worker watchdog: job j1 (grade submission s1) made no progress for 61 s (stage importing)" in err
    reporter._next = 0.0
    reporter.poll()
    assert capsys.readouterr().err == ""  # said once
