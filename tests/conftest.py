"""Shared test setup: every test runs with its own data dir under var/test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh WORKSAMPLE_DATA_DIR for one test, with the settings cache cleared."""
    from worksample.config import get_settings

    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("WORKSAMPLE_DATA_DIR", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("WORKSAMPLE_ENV", "development")
