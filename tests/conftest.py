"""Shared test setup: every test runs with its own data dir under var/test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="database every `data_dir` test uses: SQLite under the data dir (default) or a fresh "
        "database on a throwaway PostgreSQL server (Debian's postgresql; see tests/pg_server.py)",
    )


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest):
    """One real PostgreSQL server for the session, on a unix socket in a temporary directory."""
    from pg_server import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    """The SQLAlchemy URL of this test's empty database (the backend chosen by --db)."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'worksample.db'}"


@pytest.fixture
def data_dir(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh WORKSAMPLE_DATA_DIR (and, under --db postgres, a fresh database) for one test."""
    from worksample.config import get_settings

    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("WORKSAMPLE_DATA_DIR", str(path))
    url = None
    if request.config.getoption("--db") == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
        monkeypatch.setenv("DATABASE_URL", url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()
    if url:  # close this test's pooled connections now, not when a later test's GC finds them open
        from worksample.db.session import get_engine

        get_engine(url).dispose()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("WORKSAMPLE_ENV", "development")
    os.environ.setdefault("WORKSAMPLE_WARM_POOL", "0")  # W, issue 17: no warm pool (even under `up`) unless a test asks


@pytest.fixture
def redis_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, real redis-server for one test (unix socket, no persistence), as REDIS_URL."""
    from scratch_redis import start_redis

    proc, url = start_redis(tmp_path)
    monkeypatch.setenv("REDIS_URL", url)
    from worksample.config import get_settings

    get_settings.cache_clear()
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    get_settings.cache_clear()


@pytest.fixture
def minitask():
    """The grading tests' small-task helper module (task builder, notebooks): grading and chaos tests."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("grading_minitask", REPO / "tests" / "integration" / "grading" / "minitask.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def worker_env(redis_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of `worksample worker` processes: this test's data dir and Redis, test-labelled pods."""
    return {**os.environ, "WORKSAMPLE_DATA_DIR": str(data_dir), "REDIS_URL": redis_url,
            "WORKSAMPLE_GRADING_POD_LABELS": "worksample.test=1"}
