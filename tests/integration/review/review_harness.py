"""Helpers and fixtures for the hiring team's side (shared by tests/integration/review and tests/e2e).

A migrated database, staff with passwords, logged-in test clients.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"


@pytest.fixture
def db(data_dir: Path) -> Path:
    """A migrated SQLite database in the test's data dir."""
    from worksample.db import migrate

    migrate()
    return data_dir


@pytest.fixture
def app(db):
    """The web app, against the test's database."""
    from worksample.web.app import create_app

    return create_app()


def make_user(email: str, role: str, name: str | None = None, password: str = PASSWORD) -> str:
    """A staff user with a password set through their setup link; returns the user id."""
    from worksample import accounts
    from worksample.db.models import Role

    link = accounts.add_user(email, Role(role), name)
    accounts.use_setup_link(link.token, password, password)
    return link.user_id


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, next_path: str = "/"):
    """Log a test client in through the real form; returns the POST response."""
    form = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "next": next_path,
                                       "csrf_token": csrf_of(form.text)}, follow_redirects=False)


@pytest.fixture
def browser(app):
    """A factory of fresh TestClients (each its own cookie jar), all closed at the end."""
    made: list[TestClient] = []

    def factory(base_url: str = "http://testserver") -> TestClient:
        client = TestClient(app, base_url=base_url)
        client.__enter__()
        made.append(client)
        return client

    yield factory
    for client in made:
        client.__exit__(None, None, None)
