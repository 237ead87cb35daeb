"""Submissions API, staff login and the HTML report page, against a real database."""

from __future__ import annotations

import json

import nbformat
import pytest
from starlette.testclient import TestClient

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def _graded_submission(task_folder, tmp_path, score=10.0):
    from worksample.grading import submissions
    from worksample.grading.report import build_report

    task = submissions.register_task(task_folder)
    artifacts = tmp_path / "sub"
    (artifacts / "workspace").mkdir(parents=True)
    sid = submissions.create_submission(task, artifacts)
    run = tmp_path / "run"
    (run / "mock").mkdir(parents=True)
    calls = [{"ts": 100.0 + i, "request_id": f"r{i}", "key_hash": "k", "model": "m", "status": s, "fault": f,
              "prompt_tokens": 5, "completion_tokens": 5, "cost_usd": 0.01 if s == 200 else 0, "latency_ms": 5,
              "retry_after_s": 1.0 if s == 429 else None, "request_hash": h, "in_flight": 1}
             for i, (s, f, h) in enumerate([(429, "rate_limit", "a"), (200, None, "a"), (500, "server_error", "b"),
                                             (200, None, "b")])]
    (run / "mock" / "calls.jsonl").write_text("".join(json.dumps(c) + "\n" for c in calls))
    (run / "profile.json").write_text(json.dumps({"budget_usd": 0.05}))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(EVIL), nbformat.v4.new_code_cell("x")])
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"text/html": EVIL}),
                           nbformat.v4.new_output("stream", name="stdout", text=EVIL)]
    nbformat.write(nb, run / "notebook.ipynb")
    result = {"checks": [{"id": "c1", "title": EVIL, "group": "task", "points": score, "max_points": 10,
                          "status": "pass", "message": EVIL}]}
    body = build_report(submission_id=sid, task=task.spec, task_dir=task_folder, result=result,
                        run={"status": "completed", "duration_s": 1, "cells": 1, "errors": []}, run_dir=run)
    body["run_dir"] = str(run)
    claim = submissions.claim(sid)
    assert submissions.finish(claim, body)
    return sid


@pytest.fixture
def client(db):
    from worksample.web.app import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def test_submission_status_and_report_need_staff(client, tokens, mini_task, tmp_path):
    sid = _graded_submission(mini_task, tmp_path)
    assert client.get(f"/api/v1/submissions/{sid}").status_code == 401
    auth = {"Authorization": f"Bearer {tokens['reviewer']}"}
    got = client.get(f"/api/v1/submissions/{sid}", headers=auth).json()
    assert (got["status"], got["score"], got["max_score"], got["report_versions"]) == ("graded", 10, 10, [1])
    report = client.get(f"/api/v1/submissions/{sid}/report", headers=auth).json()
    assert report["submission_id"] == sid and report["version"] == 1
    assert report["llm"]["calls"] == 4 and report["llm"]["rate_limited"] == 1 and report["llm"]["retries"] == 2
    assert "run_dir" not in report
    assert client.get("/api/v1/submissions/nope", headers=auth).status_code == 404


def test_regrade_is_admin_only_and_keeps_old_versions(client, tokens, mini_task, tmp_path, monkeypatch):
    from worksample.grading import submissions

    monkeypatch.delenv("REDIS_URL", raising=False)
    sid = _graded_submission(mini_task, tmp_path)
    path = f"/api/v1/submissions/{sid}/regrade"
    assert client.post(path, headers={"Authorization": f"Bearer {tokens['reviewer']}"}).status_code == 403
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    assert client.post(path, headers=admin).status_code == 202
    assert client.get(f"/api/v1/submissions/{sid}", headers=admin).json()["status"] == "queued"
    assert client.post(path, headers=admin).status_code == 409  # already queued
    claim = submissions.claim(sid)
    assert submissions.finish(claim, {"score": 3, "max_score": 10, "passed": False, "checks": []})
    got = client.get(f"/api/v1/submissions/{sid}", headers=admin).json()
    assert got["report_versions"] == [1, 2] and got["score"] == 3
    assert client.get(f"/api/v1/submissions/{sid}/report?version=1", headers=admin).json()["score"] == 10


def test_login_sets_cookie_and_report_page_is_safe(client, tokens, mini_task, tmp_path):
    import re as _re

    from worksample import accounts
    from worksample.db.models import Role

    sid = _graded_submission(mini_task, tmp_path)
    page = client.get(f"/submissions/{sid}/report", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    link = accounts.add_user("rita@example.com", Role.reviewer, "Rita")
    accounts.use_setup_link(link.token, "a long enough password", "a long enough password")
    form = client.get("/login").text
    csrf = _re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    bad = client.post("/login", data={"email": "rita@example.com", "password": "wrong password!!", "next": "/",
                                      "csrf_token": csrf}, follow_redirects=False)
    assert bad.status_code == 401
    ok = client.post("/login", data={"email": "rita@example.com", "password": "a long enough password",
                                     "next": "https://evil.example/", "csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert "httponly" in ok.headers["set-cookie"].lower()
    page = client.get(f"/submissions/{sid}/report")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    html = page.text
    assert "<script" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in html  # the candidate's title and message, escaped
    assert html.count("<circle") == 4 and "<polyline" in html and "budget $0.05" in html
    import re

    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no asset from elsewhere
    assert f'src="/submissions/{sid}/notebook?version=1"' in html and 'sandbox=""' in html
    frame = client.get(f"/submissions/{sid}/notebook?version=1")
    assert frame.status_code == 200 and "sandbox" in frame.headers["content-security-policy"]
    assert "<script" not in frame.text and "<img src=x" not in frame.text
    assert frame.text.count("&lt;script&gt;") == 3  # markdown, HTML output and stdout, all as text
