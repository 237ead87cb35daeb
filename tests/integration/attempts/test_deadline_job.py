"""The deadline job in RQ: scheduled at Start, replaced on extension, harmless when early, and fired by a real worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from db_rows import invitation_for_new_task

pytestmark = [pytest.mark.redis]


def test_deadline_is_scheduled_and_a_job_that_is_not_due_does_nothing(data_dir, redis_url):
    from worksample.db import Attempt, session_scope
    from worksample.jobs import DEFAULT_QUEUE, connection
    from worksample.workspace.deadlines import expire_attempt, schedule_expiry, start_clock

    attempt_id, created = start_clock(invitation_for_new_task("t-job"), time_limit_s=30 * 60)
    assert created
    with session_scope() as db:
        deadline = db.get(Attempt, attempt_id).deadline
    registry = ScheduledJobRegistry(queue=Queue(DEFAULT_QUEUE, connection=connection()))
    job_id = f"deadline-{attempt_id}-{int(deadline.timestamp())}"
    assert job_id in registry.get_job_ids()  # scheduled by Start itself
    assert abs(registry.get_scheduled_time(job_id).timestamp() - deadline.timestamp()) < 1
    extended = deadline + timedelta(minutes=10)
    assert schedule_expiry(attempt_id, extended) != job_id  # an extension adds a later job

    # The earlier job fires and finds nothing due: the attempt keeps running.
    assert expire_attempt(attempt_id) is None
    with session_scope() as db:
        assert db.get(Attempt, attempt_id).status.value == "running"


@pytest.mark.docker
@pytest.mark.timeout(300)
def test_the_deadline_job_fires_in_a_real_worker_with_no_api_running(data_dir, redis_url):
    from sqlalchemy import select

    from worksample.db import Attempt, Submission, session_scope
    from worksample.workspace.deadlines import start_clock

    attempt_id, _ = start_clock(invitation_for_new_task("t-job"), time_limit_s=4)  # schedules the RQ job at the deadline
    env = {**os.environ, "WORKSAMPLE_DATA_DIR": str(data_dir), "REDIS_URL": redis_url}
    with open(data_dir / "worker.log", "w") as log:
        # No API (no sweep), no reconciler (--reap-every 0): only the scheduled job can hand the work in.
        worker = subprocess.Popen([sys.executable, "-m", "worksample", "worker", "--reap-every", "0"], env=env,
                                  start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        try:
            end, found = time.monotonic() + 90, None
            while found is None and time.monotonic() < end:
                time.sleep(0.5)
                with session_scope() as db:
                    if db.scalar(select(Submission.id).where(Submission.attempt_id == attempt_id)):
                        row = db.get(Attempt, attempt_id)
                        found = (row.status.value, (row.submitted_at - row.deadline).total_seconds())
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    assert found is not None, f"the deadline job did not submit the attempt:\n{(data_dir / 'worker.log').read_text()[-3000:]}"
    status, late_by = found
    assert status == "expired" and 0 <= late_by < 30


def test_no_redis_means_the_sweep_covers_it(data_dir, monkeypatch):
    from worksample.config import get_settings
    from worksample.db.models import utcnow
    from worksample.workspace.deadlines import schedule_expiry

    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    assert schedule_expiry("any", utcnow()) is None
