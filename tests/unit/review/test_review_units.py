"""Review pieces without services: pseudonyms, rubric validation, CSV cells, the Markdown sanitiser, the activity SVG."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.timeout(30)
RUBRIC = [{"id": "a", "title": "A", "points": 10}, {"id": "b", "title": "B", "points": 5}]


def test_pseudonyms_are_stable_distinct_and_keyed(monkeypatch):
    from worksample.config import get_settings
    from worksample.review.viewer import pseudonym

    names = {pseudonym(f"inv{i}") for i in range(300)}
    assert all(re.fullmatch(r"Candidate [A-HJ-KM-NP-Z2-9]{4}", n) for n in names)
    assert len(names) >= 295  # 31^4 codes: collisions among a task's candidates are rare
    assert pseudonym("inv1") == pseudonym("inv1")
    before = pseudonym("inv1")
    monkeypatch.setenv("WORKSAMPLE_SECRET_KEY", "another-secret")
    get_settings.cache_clear()
    try:
        assert pseudonym("inv1") != before  # not derivable without the key
    finally:
        get_settings.cache_clear()


def test_check_review_accepts_a_whole_review():
    from worksample.review.reviews import check_review

    clean, errors = check_review(RUBRIC, {"a": 10, "b": 0.5}, "strong_yes", "ok")
    assert errors == [] and clean == {"a": 10.0, "b": 0.5}


@pytest.mark.parametrize("scores, rec, comment, loc", [
    ({"a": 1, "b": 1, "c": 1}, "yes", "", ["body", "scores", "c"]),
    ({"a": 1}, "yes", "", ["body", "scores", "b"]),
    ({"a": 10.5, "b": 1}, "yes", "", ["body", "scores", "a"]),
    ({"a": float("nan"), "b": 1}, "yes", "", ["body", "scores", "a"]),
    ({"a": None, "b": 1}, "yes", "", ["body", "scores", "a"]),
    ({"a": 1, "b": 1}, "Yes", "", ["body", "recommendation"]),
    ({"a": 1, "b": 1}, "yes", 7, ["body", "comment"]),
    ([1, 2], "yes", "", ["body", "scores"]),
])
def test_check_review_names_each_bad_field(scores, rec, comment, loc):
    from worksample.review.reviews import check_review

    _clean, errors = check_review(RUBRIC, scores, rec, comment)
    assert loc in [e["loc"] for e in errors], errors


def test_csv_cells_neutralise_formulas_but_keep_numbers():
    from worksample.review.export import _cell

    assert _cell("=1+1") == "'=1+1" and _cell("@SUM(A1)") == "'@SUM(A1)" and _cell("+x") == "'+x"
    assert _cell("-3.5") == "-3.5" and _cell(None) == "" and _cell(True) == "yes"
    assert _cell({"yes": 2, "no": 1}) == "no:1 yes:2"


def test_markdown_is_rendered_and_sanitised():
    from worksample.review.markdown import render_markdown

    html = render_markdown("# T\n\n**b** <script>x()</script> <img src=x onerror=y()>\n\n"
                           "[l](javascript:alert(1)) [ok](https://example.com) ![p](http://t.example/a.png)\n\n"
                           "![d](data:image/png;base64,iVBORw0KGgo=)")
    assert "<h1>T</h1>" in html and "<strong>b</strong>" in html
    assert "<script" not in html and "<img src=x" not in html and 'href="javascript' not in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert 'src="http' not in html and 'src="data:image/png;base64,' in html
    assert len(render_markdown("x" * 500_000)) < 150_000  # bounded


def test_activity_svg_draws_numbers_only(tmp_path, monkeypatch):
    from worksample.review import timeline

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    events = [{"ts": start.timestamp() + 60, "kind": "cell_executed"}, {"ts": start.timestamp() + 90, "kind": "save",
              "path": "<script>.ipynb"}, {"ts": "bad", "kind": "kernel_restart"}, "junk",
              {"ts": start.timestamp() + 120, "kind": "kernel_restart"}]
    monkeypatch.setattr(timeline, "mock_log_path", lambda _a: tmp_path / "calls.jsonl")
    (tmp_path / "calls.jsonl").write_text('{"ts": %f, "status": 429, "cost_usd": 0.5}\nnot json\n'
                                          % (start.timestamp() + 30))
    act = timeline.collect("a1", start, start + timedelta(hours=2), events, start + timedelta(minutes=50))
    assert (len(act.cells), len(act.saves), len(act.restarts), len(act.calls)) == (1, 1, 1, 1)
    svg = timeline.activity_svg(act)
    assert svg.startswith("<svg") and "viewBox" in svg and "<script" not in svg and "120 min" in svg
    assert ">submitted</text>" in svg and "#ef6c00" in svg and act.cost_usd == 0.5 and act.rate_limited == 1
