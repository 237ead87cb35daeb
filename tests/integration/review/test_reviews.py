"""Rubric reviews and decisions through the JSON API: validation (nothing stored), one per reviewer, hidden until yours."""

from __future__ import annotations

import pytest
from review_harness import GOOD, logged_in

pytestmark = pytest.mark.timeout(180)


def _review_rows():
    from sqlalchemy import select

    from worksample.db import session_scope
    from worksample.db.models import Review

    with session_scope() as db:
        return list(db.execute(select(Review.submission_id, Review.reviewer_id, Review.points)))


@pytest.mark.parametrize("body, loc, words", [
    ({**GOOD, "scores": {**GOOD["scores"], "speed": 3}}, ["body", "scores", "speed"], "unknown rubric id"),
    ({**GOOD, "scores": {**GOOD["scores"], "tradeoffs": 11}}, ["body", "scores", "tradeoffs"], "from 0 to 10"),
    ({**GOOD, "scores": {**GOOD["scores"], "tradeoffs": -1}}, ["body", "scores", "tradeoffs"], "from 0 to 10"),
    ({**GOOD, "scores": {**GOOD["scores"], "tradeoffs": "7"}}, ["body", "scores", "tradeoffs"], "number"),
    ({**GOOD, "scores": {**GOOD["scores"], "tradeoffs": True}}, ["body", "scores", "tradeoffs"], "number"),
    ({**GOOD, "scores": {"tradeoffs": 7, "failure_handling": 8}}, ["body", "scores", "code_quality"], "missing"),
    ({**GOOD, "recommendation": "maybe"}, ["body", "recommendation"], "strong_no"),
    ({**GOOD, "comment": "x" * 20_001}, ["body", "comment"], "at most"),
    ({k: v for k, v in GOOD.items() if k != "recommendation"}, ["body", "recommendation"], "required"),
])
def test_bad_review_is_422_naming_the_field_and_stores_nothing(team, browser, body, loc, words):
    rita = logged_in(browser, "rita")
    resp = rita.put(f"/api/v1/submissions/{team['subs'][0]}/reviews/mine", json=body)
    assert resp.status_code == 422, resp.text
    errors = resp.json()["detail"]
    assert any(e["loc"] == loc and words.lower() in e["msg"].lower() for e in errors), errors
    assert _review_rows() == []


def test_one_review_per_reviewer_updatable(team, browser):
    rita = logged_in(browser, "rita")
    url = f"/api/v1/submissions/{team['subs'][0]}/reviews/mine"
    first = rita.put(url, json=GOOD)
    assert first.status_code == 200 and first.json()["points"] == 20.5 and first.json()["max_points"] == 25
    second = rita.put(url, json={**GOOD, "scores": {"tradeoffs": 1, "failure_handling": 1, "code_quality": 1},
                                 "recommendation": "no"})
    assert second.status_code == 200 and second.json()["points"] == 3
    assert [(r[1], r[2]) for r in _review_rows()] == [(team["users"]["rita"], 3.0)]
    assert rita.get(url).json()["recommendation"] == "no"
    assert rita.put("/api/v1/submissions/nope/reviews/mine", json=GOOD).status_code == 404


def test_others_reviews_hidden_until_you_submit_yours(team, browser):
    sid = team["subs"][0]
    rita, rob, admin = logged_in(browser, "rita"), logged_in(browser, "rob"), logged_in(browser, "admin")
    assert rob.put(f"/api/v1/submissions/{sid}/reviews/mine", json=GOOD).status_code == 200
    hidden = rita.get(f"/api/v1/submissions/{sid}/reviews")
    assert hidden.status_code == 403 and "your own review first" in hidden.json()["detail"]
    page = rita.get(f"/submissions/{sid}")
    assert "Hidden until you submit your own review" in page.text and "Clear write-up." not in page.text
    table = rita.get(f"/api/v1/tasks/{team['slug']}/submissions").json()
    row = next(r for r in table if r["id"] == sid)
    assert row["review_count"] == 1 and row["rubric_mean"] is None and row["recommendations"] is None
    assert admin.get(f"/api/v1/submissions/{sid}/reviews").status_code == 200  # admins always see them
    rita.put(f"/api/v1/submissions/{sid}/reviews/mine", json={**GOOD, "recommendation": "strong_yes"})
    seen = rita.get(f"/api/v1/submissions/{sid}/reviews").json()["reviews"]
    assert sorted(r["recommendation"] for r in seen) == ["strong_yes", "yes"]
    assert {r["reviewer"] for r in seen} == {"Rita", "Rob"}
    row = next(r for r in rita.get(f"/api/v1/tasks/{team['slug']}/submissions").json() if r["id"] == sid)
    assert row["rubric_mean"] == 20.5 and row["recommendations"] == {"yes": 1, "strong_yes": 1}
    page = rita.get(f"/submissions/{sid}")
    assert "Clear write-up." in page.text and "Hidden until" not in page.text


def test_decisions_are_admin_only_and_validated(team, browser):
    sid = team["subs"][1]
    rita, admin = logged_in(browser, "rita"), logged_in(browser, "admin")
    url = f"/api/v1/submissions/{sid}/decision"
    assert rita.post(url, json={"decision": "advance", "note": ""}).status_code == 403
    bad = admin.post(url, json={"decision": "hire", "note": ""})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "decision"]
    assert admin.post(url, json={"decision": "hold", "note": "wait for the onsite"}).status_code == 200
    made = admin.post(url, json={"decision": "advance", "note": "strong"})
    assert made.status_code == 200 and made.json()["decision"] == "advance" and made.json()["decided_by"] == "Ann Admin"
    row = next(r for r in rita.get(f"/api/v1/tasks/{team['slug']}/submissions").json() if r["id"] == sid)
    assert row["decision"] == "advance" and row["stage"] == "decided"
    assert admin.post("/api/v1/submissions/nope/decision", json={"decision": "hold"}).status_code == 404


def test_review_api_needs_staff_and_session_posts_need_csrf(team, browser):
    from worksample.accounts import create_token
    from worksample.db.models import Role

    sid = team["subs"][0]
    anonymous = browser()
    assert anonymous.put(f"/api/v1/submissions/{sid}/reviews/mine", json=GOOD).status_code == 401
    rita = logged_in(browser, "rita")
    del rita.headers["X-CSRF-Token"]
    assert rita.put(f"/api/v1/submissions/{sid}/reviews/mine", json=GOOD).status_code == 403
    token = create_token(Role.reviewer, "script")
    bearer = browser()
    resp = bearer.put(f"/api/v1/submissions/{sid}/reviews/mine", json=GOOD,
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200  # bearer callers carry no ambient credential: no CSRF token needed
    assert _review_rows()[0][2] == 20.5


def test_rubric_form_on_the_review_page(team, browser):
    sid = team["subs"][0]
    rita = logged_in(browser, "rita")
    page = rita.get(f"/submissions/{sid}")
    assert 'name="score.tradeoffs"' in page.text and 'max="10"' in page.text
    token = rita.headers["X-CSRF-Token"]
    bad = rita.post(f"/submissions/{sid}/review", data={"csrf_token": token, "score.tradeoffs": "12",
                                                       "score.failure_handling": "3", "recommendation": "yes"})
    assert bad.status_code == 422 and "scores.tradeoffs" in bad.text and "scores.code_quality" in bad.text
    assert _review_rows() == []
    ok = rita.post(f"/submissions/{sid}/review", data={"csrf_token": token, "score.tradeoffs": "9",
                                                      "score.failure_handling": "3", "score.code_quality": "2",
                                                      "recommendation": "strong_yes", "comment": "<b>bold</b>"},
                   follow_redirects=False)
    assert ok.status_code == 303
    again = rita.get(f"/submissions/{sid}")
    assert "Update my review" in again.text and "&lt;b&gt;bold&lt;/b&gt;" in again.text
    forged = rita.post(f"/submissions/{sid}/review", data={"score.tradeoffs": "1"}, headers={"X-CSRF-Token": ""})
    assert forged.status_code == 403


def test_page_forms_redirect_to_their_section_and_are_audited(team, browser):
    """The review and decision forms of the review page: 303 back to their section, one audit event each,
    the page again with the errors on a bad form (422), 404 for an unknown submission, 403 for a reviewer."""
    from worksample import audit

    sid = team["subs"][1]
    rita, admin = logged_in(browser, "rita"), logged_in(browser, "admin")
    form = {"csrf_token": rita.headers["X-CSRF-Token"], "score.tradeoffs": "9", "score.failure_handling": "3",
            "score.code_quality": "2", "recommendation": "yes"}
    saved = rita.post(f"/submissions/{sid}/review", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/submissions/{sid}?saved=review#reviews"
    assert rita.post("/submissions/nope/review", data=form).status_code == 404
    assert rita.post(f"/submissions/{sid}/decision", data={"csrf_token": form["csrf_token"],
                                                           "decision": "advance"}).status_code == 403
    token = admin.headers["X-CSRF-Token"]
    bad = admin.post(f"/submissions/{sid}/decision", data={"csrf_token": token, "decision": "hire"})
    assert bad.status_code == 422 and 'id="decision-form"' in bad.text
    made = admin.post(f"/submissions/{sid}/decision", data={"csrf_token": token, "decision": "hold", "note": "n"},
                      follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == f"/submissions/{sid}?saved=decision#decision"
    assert admin.post("/submissions/nope/decision", data={"csrf_token": token, "decision": "hold"}).status_code == 404
    events = [(e.action, e.target, e.detail) for e in audit.entries() if e.action in ("review.submit", "decision.make")]
    assert events == [("decision.make", sid, {"decision": "hold"}), ("review.submit", sid, {"recommendation": "yes"})]
