"""Events are emitted where things happen: a review saved and a decision made (H4's review code) each
store one signed-to-be event for a subscribed webhook; nobody subscribed, nothing stored; a broken
webhook store never fails the review."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db_rows import add_attempt, add_invitation, add_submission, add_task

pytestmark = [pytest.mark.redis, pytest.mark.timeout(120)]


def _submission():
    from worksample.db import session_scope
    from worksample.db.models import Role, User

    with session_scope() as db:
        task = add_task(db, "t1", spec={"rubric": [{"id": "tradeoffs", "title": "Trade-offs", "points": 10}]})
        admin = User(email="ad@example.com", name="Ad", role=Role.admin)
        db.add(admin)
        db.flush()
        inv = add_invitation(db, task, name="Ada", email="a@example.com")
        sub = add_submission(db, task, attempt=add_attempt(db, inv))
        return sub.id, inv.id, admin.id


def _events(event_type: str) -> list[dict]:
    from worksample.db import session_scope
    from worksample.db.models import WebhookEvent

    with session_scope() as db:
        return [json.loads(b) for b in db.scalars(select(WebhookEvent.body).where(WebhookEvent.type == event_type))]


def test_review_and_decision_emit_their_events(platform_env):
    from worksample.db.models import Role
    from worksample.review.reviews import decide, save_review
    from worksample.review.viewer import Viewer
    from worksample.webhooks.registry import create_webhook

    submission_id, invitation_id, admin_id = _submission()
    viewer = Viewer(admin_id, Role.admin, blind=False)
    save_review(viewer, submission_id, {"tradeoffs": 7}, "yes", "fine")
    assert _events("review.submitted") == []  # nobody subscribed: nothing stored

    create_webhook("http://127.0.0.1:9/hook", ["review.submitted", "decision.made"])
    save_review(viewer, submission_id, {"tradeoffs": 8}, "strong_yes", "better")
    decide(viewer, submission_id, "advance", "a private note")
    (review,) = _events("review.submitted")
    assert review["data"] == {**review["data"], "submission_id": submission_id, "invitation_id": invitation_id,
                              "task": "t1", "reviewer_id": admin_id, "recommendation": "strong_yes", "points": 8.0}
    (decision,) = _events("decision.made")
    assert decision["data"]["decision"] == "advance" and decision["data"]["invitation_id"] == invitation_id
    assert "a private note" not in json.dumps(decision)  # the note stays in the platform


def test_a_broken_event_store_never_fails_the_action(platform_env, monkeypatch):
    from worksample.db.models import Role
    from worksample.review.reviews import save_review
    from worksample.review.viewer import Viewer
    from worksample.webhooks import registry
    from worksample.webhooks.registry import create_webhook

    submission_id, _inv, admin_id = _submission()
    create_webhook("http://127.0.0.1:9/hook", ["review.submitted"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(registry, "store_event", broken)
    view = save_review(Viewer(admin_id, Role.admin, blind=False), submission_id, {"tradeoffs": 5}, "no", "")
    assert view.points == 5
