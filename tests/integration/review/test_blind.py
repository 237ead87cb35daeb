"""Blind review: a reviewer sees stable pseudonyms on every page, API answer and CSV; admins see names;
each reviewer's queue comes in a stable order of their own."""

from __future__ import annotations

import csv
import io
import re

import pytest
from review_harness import logged_in

pytestmark = pytest.mark.timeout(180)


def _everything(client, team) -> str:
    """Every page, API answer and export a staff member can read about the team's task, concatenated."""
    slug, subs = team["slug"], team["subs"]
    paths = ["/", f"/tasks/{slug}/candidates", f"/tasks/{slug}/candidates?sort=candidate&dir=asc",
             *[f"/submissions/{s}" for s in subs], f"/compare?submissions={subs[0]},{subs[1]}",
             "/api/v1/tasks", f"/api/v1/tasks/{slug}/submissions", f"/api/v1/tasks/{slug}/submissions?format=csv",
             *[f"/api/v1/submissions/{s}" for s in subs], *[f"/api/v1/submissions/{s}/report" for s in subs]]
    out = []
    for path in paths:
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
        out.append(resp.text)
    files = client.get(f"/submissions/{subs[0]}/files")
    out.append(files.headers.get("content-disposition", ""))
    return "\n".join(out)


def _leaks(text: str, team) -> list[str]:
    """Candidate names or emails found in `text` (staff emails removed first)."""
    for staff in ("rita@example.com", "rob@example.com", "admin@example.com"):
        text = text.replace(staff, "")
    words = ["Ada", "Lovelace", "Grace", "Hopper", "Alan", "Turing", "Dijkstra", "alert", "@example.com"]
    return [w for w in words if w in text]


def test_reviewer_sees_pseudonyms_everywhere(team, browser):
    rita = logged_in(browser, "rita")
    text = _everything(rita, team)
    assert _leaks(text, team) == []
    assert len(set(re.findall(r"Candidate [A-Z2-9]{4}", text))) == 5  # every invitation has its own


def test_pseudonyms_are_stable_and_shared_between_reviewers(team, browser):
    rita, rob = logged_in(browser, "rita"), logged_in(browser, "rob")
    url = f"/api/v1/tasks/{team['slug']}/submissions"
    first = {r["id"]: r["candidate"] for r in rita.get(url).json()}
    assert first == {r["id"]: r["candidate"] for r in rita.get(url).json()}
    assert first == {r["id"]: r["candidate"] for r in rob.get(url).json()}
    assert all(re.fullmatch(r"Candidate [A-Z2-9]{4}", name) for name in first.values())
    assert all(r["email"] is None for r in rob.get(url).json())


def test_admin_sees_names(team, browser):
    admin = logged_in(browser, "admin")
    rows = admin.get(f"/api/v1/tasks/{team['slug']}/submissions").json()
    assert {r["candidate"] for r in rows} == set(team["names"][:4])
    assert "c0@example.com" in admin.get(f"/submissions/{team['subs'][0]}").text
    page = admin.get(f"/tasks/{team['slug']}/candidates").text
    assert "Ada Lovelace" in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page and "<script>" not in page


def test_csv_export_is_pseudonymous_for_reviewers(team, browser):
    rita, admin = logged_in(browser, "rita"), logged_in(browser, "admin")
    url = f"/api/v1/tasks/{team['slug']}/submissions?format=csv"
    resp = rita.get(url)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 4  # the submitted ones; the invited candidate has no submission
    assert all(re.fullmatch(r"Candidate [A-Z2-9]{4}", r["candidate"]) and r["email"] == "" for r in rows)
    assert _leaks(resp.text, team) == []
    named = list(csv.DictReader(io.StringIO(admin.get(url).text)))
    assert {r["candidate"] for r in named} == set(team["names"][:4]) and named[0]["email"].endswith("@example.com")
    assert rita.get(f"/api/v1/tasks/{team['slug']}/submissions?format=xml").status_code == 422
    assert rita.get("/api/v1/tasks/nope/submissions?format=csv").status_code == 404


def test_csv_neutralises_spreadsheet_formulas(db, browser):
    from review_harness import make_user

    from worksample.review import synthetic

    tid = synthetic.add_task("t2", "T2")
    synthetic.add_candidate(tid, "t2", "=HYPERLINK(\"http://evil\",\"x\")", "e@example.com", seed=3)
    make_user("admin@example.com", "admin")
    admin = logged_in(browser, "admin")
    rows = list(csv.reader(io.StringIO(admin.get("/api/v1/tasks/t2/submissions?format=csv").text)))
    assert rows[1][1].startswith("'=")


def test_each_reviewer_has_a_stable_queue_order_of_their_own(db, browser):
    from review_harness import make_user

    from worksample.review import synthetic

    tid = synthetic.add_task("q", "Queue task")
    for i in range(12):
        synthetic.add_candidate(tid, "q", f"Person {i}", f"p{i}@example.com", seed=i)
    make_user("rita@example.com", "reviewer")
    make_user("rob@example.com", "reviewer")
    rita, rob = logged_in(browser, "rita"), logged_in(browser, "rob")

    def queue(client):
        html = client.get("/").text
        table = html[html.index('id="queue"'):html.index("</table>", html.index('id="queue"'))]
        return re.findall(r"Candidate [A-Z2-9]{4}", table)

    first = queue(rita)
    assert len(first) == 12 and queue(rita) == first
    other = queue(rob)
    assert sorted(other) == sorted(first) and other != first  # same people, another order
    by_time = [r["candidate"] for r in sorted(rita.get("/api/v1/tasks/q/submissions").json(),
                                              key=lambda r: r["submitted_at"])]
    assert first != by_time


def test_blind_review_can_be_turned_off(team, browser, monkeypatch):
    from worksample.config import get_settings

    monkeypatch.setenv("WORKSAMPLE_BLIND_REVIEW", "false")
    get_settings.cache_clear()
    rita = logged_in(browser, "rita")
    assert "Ada Lovelace" in rita.get(f"/tasks/{team['slug']}/candidates").text
