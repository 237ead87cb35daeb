"""What a new candidate and a new staff user saw (issue 13, defects 6-8): the brief, a progress sign, offline docs.

The real app over ASGI and a real SQLite database; no pod is needed for these pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

SLUG = "support-ticket-triage"


@pytest.fixture
def app_client(data_dir):
    from worksample.catalog.sync import sync_catalog
    from worksample.db import migrate
    from worksample.web import create_app

    migrate()
    sync_catalog()
    with TestClient(create_app()) as client:
        yield client


def _attempt(slug: str = SLUG) -> str:
    from worksample.workspace.deadlines import start_clock
    from worksample.workspace.invitations import create_invitation

    made = create_invitation(slug, "Ada", "ada@example.com")
    attempt_id, _ = start_clock(made.id, 3600)
    return attempt_id


@pytest.mark.timeout(60)
def test_docs_page_needs_no_internet_and_names_the_openapi(app_client):
    page = app_client.get("/docs")
    assert page.status_code == 200
    assert 'href="/openapi.json"' in page.text
    assert not re.search(r"""(src|href)=["']https?://""", page.text)  # Swagger UI came from a CDN: blank offline
    assert app_client.get("/openapi.json").json()["info"]["title"] == "worksample"
    assert app_client.get("/redoc").status_code == 404


@pytest.mark.timeout(60)
def test_workspace_top_bar_links_the_brief_and_shows_progress_while_lab_loads(app_client):
    from worksample.workspace.access import ATTEMPT_COOKIE, attempt_cookie_value

    attempt_id = _attempt()
    app_client.cookies.set(ATTEMPT_COOKIE, attempt_cookie_value(attempt_id))
    page = app_client.get(f"/w/{attempt_id}/")
    assert page.status_code == 200, page.text
    topbar = page.text.split('id="topbar"')[1].split("</header>")[0]
    assert "<summary>Brief</summary>" in topbar
    readme = (Path(__file__).resolve().parents[3] / "tasks" / SLUG / "README.md").read_text()
    first_heading = next(line for line in readme.splitlines() if line.startswith("# ")).lstrip("# ").strip()
    assert first_heading in topbar
    # Defect 8: a progress indicator sits behind the lab frame, and the frame is not painted white meanwhile.
    assert 'id="lab-loading"' in page.text and "Starting JupyterLab" in page.text
    assert page.text.index('id="lab-loading"') < page.text.index('id="lab"')
    css = app_client.get("/static/ws/style.css").text
    rule = re.search(r"iframe#lab \{([^}]*)\}", css).group(1)
    assert "background: transparent" in rule and "#fff" not in rule


@pytest.mark.timeout(60)
def test_the_brief_is_in_the_candidates_workspace(data_dir, tmp_path):
    from worksample.catalog import load_task
    from worksample.workspace.pods import seed_starter

    task_dir = Path(__file__).resolve().parents[3] / "tasks" / SLUG
    task = load_task(task_dir)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    seed_starter("attempt-readme-test", task, workspace)
    assert (workspace / "README.md").read_text() == (task_dir / "README.md").read_text()
    assert (workspace / task.workspace.entrypoint).is_file()


@pytest.mark.timeout(60)
def test_submit_waits_until_the_workspace_is_ready(app_client):
    # A Submit pressed while the Start waits in line would hand in an empty workspace for good.
    from sqlalchemy import select

    from worksample.db import Attempt, Submission, session_scope
    from worksample.workspace.access import ATTEMPT_COOKIE, attempt_cookie_value

    attempt_id = _attempt()  # its clock has not started: no workspace has answered yet
    app_client.cookies.set(ATTEMPT_COOKIE, attempt_cookie_value(attempt_id))
    refused = app_client.post(f"/api/v1/attempts/{attempt_id}/submit")
    assert refused.status_code == 409 and "still starting" in refused.json()["detail"], refused.text
    with session_scope() as db:
        assert db.get(Attempt, attempt_id).status.value == "running"
        assert db.scalar(select(Submission.id).where(Submission.attempt_id == attempt_id)) is None
    topbar = app_client.get(f"/w/{attempt_id}/").text.split('id="topbar"')[1].split("</header>")[0]
    button = re.search(r'<button[^>]*id="submit"[^>]*>', topbar).group(0)
    assert "disabled" in button and "once your workspace is ready" in button
    script = app_client.get("/static/ws/workspace.js").text
    assert "submitButton.disabled = !clockStarted" in script  # enabled by the page's poll once it is ready
