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


@pytest.fixture
def redis_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, real redis-server for one test (unix socket, no persistence), as REDIS_URL."""
    import subprocess

    from worksample.redis_server import wait_ready

    sock = tmp_path / "r.sock"
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://{sock}"
    wait_ready(url)
    monkeypatch.setenv("REDIS_URL", url)
    from worksample.config import get_settings

    get_settings.cache_clear()
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    get_settings.cache_clear()
