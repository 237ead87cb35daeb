"""The review pages: queue first, sortable candidates, strict CSP, escaping, compare, files, notebook, activity."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from review_harness import GOOD, logged_in

pytestmark = pytest.mark.timeout(180)
EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_dashboard_shows_the_queue_first_and_the_funnel(team, browser):
    rita = logged_in(browser, "rita")
    html = rita.get("/").text
    assert html.index("Waiting for your review") < html.index("<h2>Tasks</h2>")
    queue = html[html.index('id="queue"'):html.index("</table>")]
    assert len(re.findall(r'href="/submissions/', queue)) == 2 * 3  # three graded, two links each
    funnel = re.search(r'id="tasks".*?</table>', html, re.S).group(0)
    cells = [int(n) for n in re.findall(r'<td class="num">(\d+)', funnel)]
    assert cells[:6] == [5, 4, 4, 3, 0, 0]  # invited, started, submitted, graded, reviewed, decided
    rita.put(f"/api/v1/submissions/{team['subs'][0]}/reviews/mine", json=GOOD)
    queue = rita.get("/").text
    queue = queue[queue.index('id="queue"'):queue.index("</table>")]
    assert team["subs"][0] not in queue and team["subs"][1] in queue


def test_candidates_table_sorts_by_each_column(team, browser):
    admin = logged_in(browser, "admin")
    admin.put(f"/api/v1/submissions/{team['subs'][2]}/reviews/mine", json=GOOD)

    def order(sort, direction):
        html = admin.get(f"/tasks/{team['slug']}/candidates?sort={sort}&dir={direction}").text
        body = html[html.index("<tbody>"):html.index("</tbody>")]
        return re.findall(r'<tr data-stage="(\w+)">', body), body

    stages, _ = order("stage", "desc")
    assert stages == ["reviewed", "graded", "graded", "submitted", "invited"]
    assert order("stage", "asc")[0][:3] == ["invited", "submitted", "graded"]
    _, body = order("candidate", "asc")
    names = re.findall(r'(Ada Lovelace|Alan Turing|Edsger Dijkstra|Grace Hopper|&lt;script)', body)
    assert names == sorted(names, key=str.lower)
    for column in ("score", "rubric", "decision", "time", "cost", "submitted", "reviews", "bogus"):
        assert admin.get(f"/tasks/{team['slug']}/candidates?sort={column}&dir=asc").status_code == 200
    html = admin.get(f"/tasks/{team['slug']}/candidates").text
    assert f'href="/api/v1/tasks/{team["slug"]}/submissions?format=csv"' in html


def test_staff_pages_keep_the_strict_csp_and_escape_candidate_strings(team, browser):
    admin = logged_in(browser, "admin")
    sid = team["subs"][1]  # the candidate named <script>…
    for path in ["/", f"/tasks/{team['slug']}/candidates", f"/submissions/{sid}",
                 f"/compare?submissions={team['subs'][0]},{sid}", "/login", "/account/password"]:
        resp = admin.get(path)
        csp = resp.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "style-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp and resp.headers["x-frame-options"] == "DENY"
        assert "<script" not in resp.text and "style=" not in resp.text, path
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", resp.text), path
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in admin.get(f"/submissions/{sid}").text


def test_compare_two_to_four_of_one_task(team, browser):
    from worksample.review import synthetic

    rita, rob = logged_in(browser, "rita"), logged_in(browser, "rob")
    a, b, c = team["subs"]
    rob.put(f"/api/v1/submissions/{a}/reviews/mine", json=GOOD)
    page = rita.get(f"/compare?submissions={a},{b}&submissions={c}")
    assert page.status_code == 200
    assert len(re.findall(r"Candidate [A-Z2-9]{4}</a></th>", page.text)) == 3
    assert "Macro-F1 on the hold-out set" in page.text and "hidden until you review" in page.text
    assert rita.get(f"/compare?submissions={a}").status_code == 422
    assert rita.get(f"/compare?submissions={a},nope").status_code == 422
    other = synthetic.add_task("other", "Other task")
    elsewhere = synthetic.add_candidate(other, "other", "Zed", "z@example.com", seed=9).submission_id
    mixed = rita.get(f"/compare?submissions={a},{elsewhere}")
    assert mixed.status_code == 422 and "different tasks" in mixed.text


def _artifacts_with_notebook(team, tmp_path: Path) -> str:
    """Give the first graded submission real artifacts (files, a symlink out) and an executed notebook."""
    from sqlalchemy import update

    from worksample.db import Report, Submission, session_scope

    sid = team["subs"][0]
    art = tmp_path / "art"
    (art / "workspace" / "outputs").mkdir(parents=True)
    (art / "workspace" / "triage.ipynb").write_text("{}")
    (art / "workspace" / "outputs" / "predictions.csv").write_text("id,label\n1,a\n")
    (art / "workspace" / "leak").symlink_to("/etc/passwd")
    run = tmp_path / "run"
    run.mkdir()
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Approach\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
              + EVIL + "\n\n[x](javascript:alert(3)) ![i](http://tracker.example/p.png)"},
             {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "print(1)", "outputs": [
                 {"output_type": "display_data", "metadata": {}, "data": {"text/html": EVIL}}]}]
    (run / "notebook.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                    "nbformat_minor": 5}))
    with session_scope() as db:
        db.execute(update(Submission).where(Submission.id == sid).values(artifacts_path=str(art)))
        report = db.query(Report).filter(Report.submission_id == sid).one()
        report.body = {**report.body, "run_dir": str(run)}
    return sid


def test_files_download_is_a_zip_without_followed_links(team, browser, tmp_path):
    sid = _artifacts_with_notebook(team, tmp_path)
    rita = logged_in(browser, "rita")
    resp = rita.get(f"/submissions/{sid}/files")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    assert re.search(r'filename="triage-Candidate-[A-Z2-9]{4}\.zip"', resp.headers["content-disposition"])
    names = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    assert sorted(names) == ["outputs/predictions.csv", "triage.ipynb"]
    assert rita.get(f"/submissions/{team['subs'][1]}/files").status_code == 404  # nothing kept
    assert browser().get(f"/submissions/{sid}/files", follow_redirects=False).status_code == 303


def test_notebook_markdown_is_rendered_and_sanitised(team, browser, tmp_path):
    sid = _artifacts_with_notebook(team, tmp_path)
    rita = logged_in(browser, "rita")
    page = rita.get(f"/submissions/{sid}")
    assert f'src="/submissions/{sid}/notebook?version=1"' in page.text and 'sandbox=""' in page.text
    frame = rita.get(f"/submissions/{sid}/notebook?version=1")
    csp = frame.headers["content-security-policy"]
    assert "sandbox" in csp and "script-src" not in csp
    html = frame.text
    assert "<h1>Approach</h1>" in html and "<table>" in html and "<td>1</td>" in html  # rendered, not raw text
    assert "<script" not in html and "onerror" not in html.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript' not in html and 'src="http' not in html  # no script link, nothing fetched
    assert html.count("&lt;script&gt;") == 2  # the Markdown's raw HTML and the HTML output: both shown as text
    assert browser().get(f"/submissions/{sid}/notebook").status_code == 401


def test_review_page_says_who_and_what_and_shows_the_attempt_activity(team, browser, tmp_path):
    from worksample.config import get_settings
    from worksample.db import Attempt, session_scope

    sid, seeded = team["subs"][0], team["seeded"][0]
    with session_scope() as db:
        started = db.get(Attempt, seeded.attempt_id).started_at.timestamp()
    log = get_settings().resolved_data_dir / "attempts" / seeded.attempt_id / "mock-log"
    log.mkdir(parents=True)
    lines = [json.dumps({"ts": started + 60 * i, "status": s, "cost_usd": 0.01}) for i, s in
             enumerate([200, 429, 200, 500, 200])] + ["not json", json.dumps({"ts": "x"})]
    (log / "calls.jsonl").write_text("\n".join(lines) + "\n")
    rita = logged_in(browser, "rita")
    html = rita.get(f"/submissions/{sid}").text
    facts = re.search(r'id="facts".*?</dl>', html, re.S).group(0)
    assert re.search(r"Candidate [A-Z2-9]{4}", facts) and "Support ticket triage" in facts
    assert "Submitted</dt><dd>20" in facts and re.search(r"Time used</dt><dd>\d+ h \d\d min of 2 h 00 min", facts)
    assert f'href="/tasks/{team["slug"]}/candidates" id="back"' in html
    activity = re.search(r'id="activity".*?</div>', html, re.S).group(0)
    assert "<svg" in activity and "cells run" in activity and "kernel restarts" in activity
    assert "5 LLM calls (1 rate-limited) costing $0.0500" in activity
    assert activity.count("<circle") == 5 and ">submitted</text>" in activity


def test_sql_queries_per_page_do_not_grow_with_candidates(db, browser):
    from sqlalchemy import event

    from review_harness import make_user
    from worksample.db import get_engine
    from worksample.review import synthetic

    tid = synthetic.add_task("n", "N task")
    make_user("admin@example.com", "admin")
    admin = logged_in(browser, "admin")
    counted: list[str] = []
    event.listen(get_engine(), "before_cursor_execute", lambda *a: counted.append(a[2]))

    def queries(path):
        counted.clear()
        assert admin.get(path).status_code == 200
        return len(counted)

    paths = ["/", "/tasks/n/candidates", "/api/v1/tasks/n/submissions?format=csv"]
    for i in range(3):
        synthetic.add_candidate(tid, "n", f"P{i}", f"p{i}@example.com", seed=i)
    few = [queries(p) for p in paths]
    for i in range(3, 30):
        synthetic.add_candidate(tid, "n", f"P{i}", f"p{i}@example.com", seed=i)
    many = [queries(p) for p in paths]
    assert few == many, (few, many)
