"""Engines, sessions and migrations.

SQLite (the default) runs in WAL mode with a busy timeout so the API and the
workers can share one file; Postgres is used as given by DATABASE_URL.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from worksample.config import get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the settings' database), created once per URL."""
    return _engine(url or get_settings().resolved_database_url)


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# Key of the PostgreSQL advisory lock held while migrating (any fixed 64-bit number of ours).
_PG_MIGRATE_LOCK = 0x7773_6D69_6772  # "wsmigr"


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Hold an exclusive lock on `url`'s database while migrating it.

    Commands that start together (the API and workers under `up`, CI's task
    tests side by side) each migrate first; without a lock two of them can
    both find a table missing and both create it. SQLite: an flock on a file
    beside the database. PostgreSQL: a session advisory lock, held on a
    connection of its own while Alembic migrates on another.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            yield
            return
        lock_path = Path(parsed.database + ".migrate.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    if parsed.get_backend_name() == "postgresql":
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATE_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATE_LOCK})
        return
    yield


def migrate(url: str | None = None) -> None:
    """Bring the schema to the newest migration (idempotent; concurrent callers take turns)."""
    from alembic import command

    url = url or get_settings().resolved_database_url
    with _migration_lock(url):
        command.upgrade(_alembic_config(url), "head")


def database_status(url: str | None = None) -> str:
    """'ok' when the database answers and is migrated, else the reason."""
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # a health probe reports every failure as text
        return f"unreachable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return "ok" if version else "not migrated: run `worksample db upgrade`"
