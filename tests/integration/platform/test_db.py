from sqlalchemy import inspect

from worksample.db import get_engine, migrate
from worksample.db.session import database_status

TABLES = {"users", "api_tokens", "tasks", "invitations", "attempts", "submissions", "reports"}


def test_migrate_creates_core_tables_and_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    assert database_status(url).startswith("not migrated") or database_status(url).startswith("unreachable")
    migrate(url)
    migrate(url)
    assert TABLES <= set(inspect(get_engine(url)).get_table_names())
    assert database_status(url) == "ok"


def test_token_roundtrip(data_dir, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from worksample.accounts import create_token, user_for_token
    from worksample.db.models import Role

    migrate()
    token = create_token(Role.reviewer, "rita")
    assert user_for_token(token).role is Role.reviewer
    assert user_for_token(token + "x") is None
