"""Fixtures for grading integration tests: a real small task, a migrated database, staff tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from leftover_pods import remove_leftover_pods


@pytest.fixture
def mini_task(tmp_path: Path, minitask) -> Path:
    """A real, valid task folder with a hidden suite and hold-out data."""
    return minitask.make_task(tmp_path / "tasks")


@pytest.fixture
def db(data_dir: Path) -> Path:
    """A migrated SQLite database in the test's data dir."""
    from worksample.db import migrate

    migrate()
    return data_dir


@pytest.fixture
def tokens(db) -> dict[str, str]:
    """A reviewer and an admin bearer token."""
    from worksample.accounts import create_token
    from worksample.db.models import Role

    return {"reviewer": create_token(Role.reviewer, "rita"), "admin": create_token(Role.admin, "adam")}


@pytest.fixture
def no_test_containers_left(data_dir):
    """After the test, no container of this test's platform (data dir) may remain."""
    yield
    out = remove_leftover_pods(data_dir)
    assert not out, f"grading containers left behind: {out}"
