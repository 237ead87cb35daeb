"""The audit log: rows written alone or inside the caller's transaction, newest first, bounded."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

pytestmark = pytest.mark.timeout(60)


@dataclass
class FakeStaff:
    user_id: str
    name: str


@pytest.fixture
def db(data_dir):
    from worksample.db import migrate

    migrate()
    return data_dir


def test_record_and_list_newest_first(db):
    from worksample import audit

    audit.record("login.failed", actor="eve@example.com", ok=False, client="10.0.0.9")
    audit.record("invitation.revoke", actor=FakeStaff("u1", "Ada Admin"), target="inv123", detail={"why": "test"})
    rows = audit.entries()
    assert [r.action for r in rows] == ["invitation.revoke", "login.failed"]
    assert rows[0].actor_id == "u1" and rows[0].actor == "Ada Admin" and rows[0].target == "inv123"
    assert rows[0].detail == {"why": "test"} and rows[0].ts.tzinfo is not None
    assert rows[1].ok is False and rows[1].actor == "eve@example.com" and rows[1].client == "10.0.0.9"
    assert [r.action for r in audit.entries(action="login")] == ["login.failed"]
    assert audit.entries(before_id=rows[0].id)[0].id == rows[1].id


def test_record_joins_the_callers_transaction(db):
    from worksample import audit
    from worksample.db import session_scope

    with pytest.raises(RuntimeError):
        with session_scope() as session:
            audit.record("webhook.create", actor="x", db=session)
            raise RuntimeError("the action failed")
    assert audit.count() == 0  # rolled back with the action
    with session_scope() as session:
        audit.record("webhook.create", actor="x", db=session)
    assert audit.count() == 1


def test_detail_is_bounded(db):
    from worksample import audit

    audit.record("user.create", actor="a", detail={"blob": "x" * 100_000})
    detail = audit.entries()[0].detail
    assert "truncated" in detail and len(detail["truncated"]) == audit.DETAIL_CAP
