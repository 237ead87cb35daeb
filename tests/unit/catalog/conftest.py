"""Catalog-test fixtures: a fresh valid task folder to break one rule at a time."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def task(tmp_path: Path) -> Path:
    """A fresh valid task folder made by `new_task` (slug demo-task)."""
    from worksample.catalog import new_task

    return new_task(tmp_path / "tasks", "demo-task")
