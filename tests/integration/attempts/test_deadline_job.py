"""The deadline job in RQ: scheduled at Start, replaced on extension, harmless when it fires early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

pytestmark = [pytest.mark.redis]


def test_deadline_is_scheduled_and_a_job_that_is_not_due_does_nothing(data_dir, redis_url):
    from worksample.db import Attempt, Invitation, Task, migrate, session_scope
    from worksample.db.models import utcnow
    from worksample.jobs import DEFAULT_QUEUE, connection
    from worksample.workspace.deadlines import expire_attempt, schedule_expiry

    migrate()
    deadline = utcnow() + timedelta(minutes=30)
    with session_scope() as db:
        task = Task(slug="t-job", title="T", version="v", path="/nonexistent", spec={"time_limit": "30m"})
        db.add(task)
        db.flush()
        inv = Invitation(token_hash="h" * 64, task_id=task.id, candidate_name="C", candidate_email="c@d.e")
        db.add(inv)
        db.flush()
        attempt = Attempt(invitation_id=inv.id, deadline=deadline, activity=[])
        db.add(attempt)
        db.flush()
        attempt_id = attempt.id

    job_id = schedule_expiry(attempt_id, deadline)
    registry = ScheduledJobRegistry(queue=Queue(DEFAULT_QUEUE, connection=connection()))
    assert job_id in registry.get_job_ids()
    assert abs(registry.get_scheduled_time(job_id).timestamp() - deadline.timestamp()) < 1
    extended = deadline + timedelta(minutes=10)
    assert schedule_expiry(attempt_id, extended) != job_id  # an extension adds a later job

    # The earlier job fires and finds nothing due: the attempt keeps running.
    assert expire_attempt(attempt_id) is None
    with session_scope() as db:
        assert db.get(Attempt, attempt_id).status.value == "running"


def test_no_redis_means_the_sweep_covers_it(data_dir, monkeypatch):
    from worksample.config import get_settings
    from worksample.db.models import utcnow
    from worksample.workspace.deadlines import schedule_expiry

    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    assert schedule_expiry("any", utcnow()) is None
