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
def db(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A migrated database in the test's data dir; argon2id with small parameters (the tests make many users)."""
    from argon2 import PasswordHasher

    from worksample import accounts
    from worksample.db import migrate

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    migrate()
    yield data_dir
    # Close the pooled connections now: on PostgreSQL an engine dropped later by garbage collection
    # leaves open connections behind (a ResourceWarning, an error under -W error, in whichever test runs next).
    from worksample.db import get_engine

    get_engine().dispose()


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


@pytest.fixture
def team(db):
    """A task with a rubric, three graded candidates, one submitted, one invited; an admin and two reviewers.

    Returns a dict: task slug, `subs` (submission ids of the graded ones), `seeded`, user ids, `names`.
    """
    from worksample.review import synthetic

    task_id = synthetic.add_task("triage", "Support ticket triage")
    names = ["Ada Lovelace", "<script>alert('x')</script>", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"]
    stages = ["graded", "graded", "graded", "submitted", "invited"]
    seeded = [synthetic.add_candidate(task_id, "triage", n, f"c{i}@example.com", stage=s, seed=i)
              for i, (n, s) in enumerate(zip(names, stages))]
    users = {"admin": make_user("admin@example.com", "admin", "Ann Admin"),
             "rita": make_user("rita@example.com", "reviewer", "Rita"),
             "rob": make_user("rob@example.com", "reviewer", "Rob")}
    return {"slug": "triage", "task_id": task_id, "seeded": seeded, "names": names, "users": users,
            "subs": [s.submission_id for s in seeded[:3]]}


def logged_in(browser, who: str):
    """A test client logged in as `who` (admin, rita, rob of the `team` fixture), with its CSRF token."""
    client = browser()
    assert login(client, f"{who}@example.com").status_code == 303
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/account/password").text)
    return client


GOOD = {"scores": {"tradeoffs": 7, "failure_handling": 8.5, "code_quality": 5}, "recommendation": "yes",
        "comment": "Clear write-up."}
