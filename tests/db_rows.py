"""Database rows for tests that need a task, an invitation, an attempt or a submission but no pod.

Each function adds one row to an open session, flushes it (so its id is set) and returns it.
`worksample` is imported inside the functions: a test's fixtures set the data dir first.
"""

from __future__ import annotations

import uuid
from datetime import timedelta


def add_task(db, slug: str = "t", **fields):
    """A `Task` row with no folder behind it (nothing started from it may need one)."""
    from worksample.db import Task

    task = Task(**{"slug": slug, "title": slug.upper(), "version": "v", "path": "/nonexistent", "spec": {}, **fields})
    db.add(task)
    db.flush()
    return task


def add_invitation(db, task, name: str = "C", email: str = "c@example.com"):
    """An invitation to `task` with a unique token hash."""
    from worksample.db import Invitation

    inv = Invitation(token_hash=uuid.uuid4().hex * 2, task_id=task.id, candidate_name=name, candidate_email=email)
    db.add(inv)
    db.flush()
    return inv


def add_attempt(db, invitation, status=None):
    """An attempt of `invitation`, started now with an hour left; `submitted` unless told."""
    from worksample.db import Attempt
    from worksample.db.models import AttemptStatus, utcnow

    att = Attempt(invitation_id=invitation.id, status=status or AttemptStatus.submitted, started_at=utcnow(),
                  deadline=utcnow() + timedelta(hours=1))
    db.add(att)
    db.flush()
    return att


def add_submission(db, task, attempt=None, status=None, artifacts_path: str = "/nonexistent"):
    """A submission of `attempt` (a submitted attempt of a new invitation to `task` if None); `queued` unless told."""
    from worksample.db import Submission

    att = attempt or add_attempt(db, add_invitation(db, task))
    sub = Submission(attempt_id=att.id, task_id=task.id, artifacts_path=artifacts_path,
                     **({"status": status} if status is not None else {}))
    db.add(sub)
    db.flush()
    return sub


def invitation_for_new_task(slug: str, time_limit: str = "30m") -> str:
    """Migrate, then add a task (no folder: nothing may start a pod from it) and an invitation; the invitation id."""
    from worksample.db import migrate, session_scope

    migrate()
    with session_scope() as db:
        return add_invitation(db, add_task(db, slug, spec={"time_limit": time_limit})).id
