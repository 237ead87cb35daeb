"""One task sync, one hash: `Task.version` does not depend on which code path wrote the row last."""

from __future__ import annotations


def _version(slug: str) -> str:
    from sqlalchemy import select

    from worksample.db import Task, session_scope

    with session_scope() as db:
        return db.scalar(select(Task.version).where(Task.slug == slug))


def test_catalog_sync_and_local_grading_write_the_same_version(db, mini_task, monkeypatch):
    from worksample.catalog.sync import sync_catalog
    from worksample.grading import submissions

    monkeypatch.setenv("WORKSAMPLE_TASKS_DIR", str(mini_task.parent))
    assert sync_catalog(mini_task.parent) == ["mini-task"]
    by_catalog = _version("mini-task")
    submissions.register_task(mini_task)  # `worksample grade` / `task test` path
    assert _version("mini-task") == by_catalog
    (mini_task / "grader" / "data" / "expected.txt").write_text("27")  # a content change is a new version
    submissions.register_task(mini_task)
    changed = _version("mini-task")
    assert changed != by_catalog
    sync_catalog(mini_task.parent)
    assert _version("mini-task") == changed
