"""Attempts are pinned to the host that started them (issue 17): only that host proxies, submits or expires them.

No Docker: the rows alone decide. A worker or API on another host must neither proxy an attempt nor hand
in its (absent here) workspace as an empty snapshot; the attempt's own host does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db_rows import invitation_for_new_task

pytestmark = [pytest.mark.timeout(60)]


def test_an_attempt_of_another_host_is_neither_proxied_nor_submitted_here(data_dir, monkeypatch):
    from worksample.config import get_settings
    from worksample.db import Attempt, Submission, session_scope
    from worksample.db.models import utcnow
    from worksample.workspace.attempts import AttemptElsewhere, attempt_open
    from worksample.workspace.deadlines import expire_attempt, expire_due_attempts, start_clock
    from worksample.workspace.submit import submit_attempt

    monkeypatch.setenv("WORKSAMPLE_HOST_NAME", "api-host-a")
    get_settings.cache_clear()
    attempt_id, _ = start_clock(invitation_for_new_task("t-host"), time_limit_s=30 * 60)
    with session_scope() as db:
        row = db.get(Attempt, attempt_id)
        assert row.host == "api-host-a"  # recorded at Start
        row.host = "api-host-b"  # B's attempt
    with pytest.raises(AttemptElsewhere, match="api-host-b"):
        attempt_open(attempt_id)  # the proxy answers 421 naming B

    with session_scope() as db:
        db.get(Attempt, attempt_id).deadline = utcnow() - timedelta(seconds=1)  # past its deadline
    with pytest.raises(AttemptElsewhere, match="api-host-b") as refused:
        submit_attempt(attempt_id)
    assert refused.value.http_status == 421
    assert expire_attempt(attempt_id) is None  # a deadline job run by a worker here leaves it to B
    assert expire_due_attempts() == []  # and so does this host's sweep
    with session_scope() as db:
        assert db.get(Attempt, attempt_id).status.value == "running"
        assert db.scalar(select(Submission.id).where(Submission.attempt_id == attempt_id)) is None

    monkeypatch.setenv("WORKSAMPLE_HOST_NAME", "api-host-b")  # on B itself the sweep hands it in
    get_settings.cache_clear()
    assert expire_due_attempts() == [attempt_id]
    with session_scope() as db:
        assert db.get(Attempt, attempt_id).status.value == "expired"
