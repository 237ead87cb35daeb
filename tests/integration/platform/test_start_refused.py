"""Past the start queue's bound (issues 13, 17), a Start is refused cleanly: 503 with Retry-After and a reason, on
the API and on the candidate's page, and the invitation stays unused (no clock started for a Start that got
nothing). The real app over ASGI and a real SQLite database; the host's slots are held through the real queue."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

SLUG = "start-refused"


@pytest.fixture
def app_client(data_dir, tmp_path, monkeypatch):
    from worksample.catalog import new_task

    new_task(tmp_path / "tasks", SLUG)  # a scaffolded task: no pod is made here, only its row is needed
    monkeypatch.setenv("WORKSAMPLE_TASKS_DIR", str(tmp_path / "tasks"))
    monkeypatch.setenv("WORKSAMPLE_START_CONCURRENCY", "1")
    monkeypatch.setenv("WORKSAMPLE_START_QUEUE_MAX", "0")  # nobody may wait: the bound is reached at once
    from worksample.catalog.sync import sync_catalog
    from worksample.config import get_settings
    from worksample.db import migrate
    from worksample.web import create_app

    get_settings.cache_clear()
    migrate()
    sync_catalog()
    with TestClient(create_app()) as client:
        yield client


@pytest.mark.timeout(60)
def test_a_start_past_the_bound_is_refused_with_retry_after_and_leaves_the_invitation_unused(app_client):
    from worksample.workspace.invitations import InvitationState, create_invitation, view_invitation
    from worksample.workspace.starts import start_queue

    token = create_invitation(SLUG, "Ada", "ada@example.com").token
    with start_queue().spare_slot("a cold start in progress") as held:
        assert held
        api = app_client.post(f"/api/v1/attempts/{token}/start")
        form = app_client.post(f"/c/{token}/start", follow_redirects=False)
    assert api.status_code == 503, api.text
    assert 5 <= int(api.headers["Retry-After"]) <= 600
    assert "waiting to start on this host" in api.json()["detail"]
    assert form.status_code == 503 and 5 <= int(form.headers["Retry-After"]) <= 600
    assert "Many candidates are starting right now" in form.text and "has not started" in form.text
    assert view_invitation(token).state is InvitationState.open  # no attempt, no clock
    assert start_queue().snapshot()["running"] == 0
