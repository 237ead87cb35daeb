"""A real, throwaway PostgreSQL server for the test suite (`pytest --db postgres`).

Debian's `postgresql` package provides the binaries; we never touch the system
cluster. One server per test session, started by `initdb` + `pg_ctl` in a
temporary directory, listening only on a unix socket there (no TCP at all);
each test gets a database of its own. Postgres refuses to run as root, so as
root the server runs as the `postgres` system user the package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The binaries are missing or the server did not start (the message says which)."""


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise PostgresUnavailable(f"{name} not found: install Debian's `postgresql` package (scripts/setup.sh does)")


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass
class PostgresServer:
    """A running server: `root` holds data and socket; `url(db)` names one database."""

    root: Path

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def create_database(self) -> str:
        """Create a fresh, empty database and return its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(host=str(self.socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        subprocess.run(
            _as_server_user([_bin("pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=30,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Initialise and start a server in a new temporary directory; raise PostgresUnavailable."""
    # pytest's own tmp dirs are 0700 root: the server user could not enter them.
    root = Path(tempfile.mkdtemp(prefix="ws-pg-"))
    root.chmod(0o755)
    (root / "sock").mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (root, root / "sock"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(root)
    data = root / "data"
    init = subprocess.run(
        _as_server_user([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = f"-c listen_addresses='' -c unix_socket_directories={server.socket_dir} -c fsync=off -c max_connections=200"
    start = subprocess.run(
        _as_server_user([_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start"]),
        capture_output=True,
        text=True,
        timeout=90,
    )
    if start.returncode != 0:
        log = (root / "server.log").read_text(errors="replace")[-800:] if (root / "server.log").exists() else ""
        server.stop()
        raise PostgresUnavailable(f"pg_ctl start failed: {start.stderr.strip()[-300:]} {log}")
    return server
