"""The database layer on both backends: run with `--db postgres` for a real PostgreSQL."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from worksample.db import get_engine, migrate
from worksample.db.session import _alembic_config, database_status

TABLES = {"users", "api_tokens", "tasks", "invitations", "attempts", "submissions", "reports"}


def test_migrate_creates_core_tables_and_is_idempotent(database_url):
    assert database_status(database_url).startswith(("not migrated", "unreachable"))
    migrate(database_url)
    migrate(database_url)
    assert TABLES <= set(inspect(get_engine(database_url)).get_table_names())
    assert database_status(database_url) == "ok"


def test_migrations_have_one_head_and_downgrade_to_nothing_and_back(database_url):
    cfg = _alembic_config(database_url)
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1
    migrate(database_url)
    command.downgrade(cfg, "base")
    left = set(inspect(get_engine(database_url)).get_table_names()) - {"alembic_version"}
    assert left == set(), f"downgrade to base left tables behind: {sorted(left)}"
    migrate(database_url)
    assert TABLES <= set(inspect(get_engine(database_url)).get_table_names())
    assert database_status(database_url) == "ok"


def test_token_roundtrip(data_dir):
    from worksample.accounts import create_token, user_for_token
    from worksample.db.models import Role

    migrate()
    token = create_token(Role.reviewer, "rita")
    assert user_for_token(token).role is Role.reviewer
    assert user_for_token(token + "x") is None


def test_commands_migrating_a_fresh_database_at_once_all_succeed(database_url):
    """Several commands started together (CI's side-by-side `task test`s) each migrate first.

    Without a lock two of them both saw no table and both created it: "table
    account_setup_links already exists".
    """
    import subprocess
    import sys
    import time

    start_at = time.time() + 3  # every process has imported by then, and they race from the same instant
    code = ("import sys, time\nfrom worksample.db import migrate\n"
            f"time.sleep(max(0.0, {start_at} - time.time()))\nmigrate(sys.argv[1])\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, "\n".join(e for e in errors if e)[-3000:]
    assert database_status(database_url) == "ok"


def test_the_unused_attempt_columns_are_dropped_keeping_the_rows_and_come_back_empty(database_url):
    """Issue 9: attempts.api_key_hash and workspace_path were written at Start and never read.

    Upgrading drops them and keeps every attempt; downgrading brings them back, empty.
    """
    from sqlalchemy import text

    cfg = _alembic_config(database_url)
    command.upgrade(cfg, "w17_attempt_host")
    engine = get_engine(database_url)
    now = "2026-11-30 00:00:00+00:00"
    with engine.begin() as db:
        db.execute(text("INSERT INTO tasks (id, slug, title, version, path, spec, updated_at) "
                        "VALUES ('t1', 't', 'T', 'v', '/x', '{}', :now)"), {"now": now})
        db.execute(text("INSERT INTO invitations (id, token_hash, task_id, candidate_name, candidate_email, created_at) "
                        "VALUES ('i1', :h, 't1', 'C', 'c@example.com', :now)"), {"h": "h" * 64, "now": now})
        db.execute(text("INSERT INTO attempts (id, invitation_id, status, started_at, deadline, api_key_hash, "
                        "workspace_path, activity, host) VALUES ('a1', 'i1', 'running', :now, :now, :h, '/w/a1', '[]', "
                        "'host-a')"), {"h": "k" * 64, "now": now})

    def columns() -> set[str]:
        return {c["name"] for c in inspect(get_engine(database_url)).get_columns("attempts")}

    def attempt() -> tuple:
        with get_engine(database_url).connect() as db:
            return tuple(db.execute(text("SELECT id, invitation_id, status, host FROM attempts")).one())

    command.upgrade(cfg, "head")
    assert not {"api_key_hash", "workspace_path"} & columns()
    assert attempt() == ("a1", "i1", "running", "host-a")
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1

    command.downgrade(cfg, "w17_attempt_host")
    assert {"api_key_hash", "workspace_path"} <= columns()
    assert attempt() == ("a1", "i1", "running", "host-a")
    with get_engine(database_url).connect() as db:
        assert db.execute(text("SELECT api_key_hash, workspace_path FROM attempts")).one() == (None, None)
    migrate(database_url)
    assert database_status(database_url) == "ok"
