"""Report assembly, task-test verdicts and the report page's drawing helpers: pure functions."""

from __future__ import annotations

import json

from worksample.grading import local, render
from worksample.grading.report import build_report, clean_checks


def test_clean_checks_never_gives_more_than_max_or_points_without_a_pass():
    checks = clean_checks([
        {"id": "a", "status": "pass", "points": 50, "max_points": 10},
        {"id": "b", "status": "fail", "points": 10, "max_points": 10},
        {"id": "c", "status": "weird", "points": 10, "max_points": 10},
        {"id": "d", "status": "pass", "points": -4, "max_points": 10},
    ])
    assert [(c["points"], c["status"]) for c in checks] == [(10, "pass"), (0, "fail"), (0, "error"), (0, "pass")]


def test_build_report_recomputes_score_and_pass_from_checks(tmp_path):
    run = tmp_path / "run"
    (run / "mock").mkdir(parents=True)
    (tmp_path / "grader").mkdir()
    result = {"score": 999, "max_score": 1, "checks": [{"id": "a", "status": "pass", "points": 7, "max_points": 10},
                                                          {"id": "b", "status": "fail", "points": 0, "max_points": 10}]}
    body = build_report(submission_id="s", task={"slug": "t", "grading": {"pass_threshold": 35}}, task_dir=tmp_path,
                        result=result, run={"status": "completed"}, run_dir=run)
    assert (body["score"], body["max_score"], body["passed"]) == (7, 20, True)
    assert body["llm"]["calls"] == 0 and body["timeline"] == []
    body = build_report(submission_id="s", task={"slug": "t", "grading": {"pass_threshold": 36}}, task_dir=tmp_path,
                        result=result, run={"status": "completed"}, run_dir=run)
    assert body["passed"] is False
    json.dumps(body)  # storable as JSON


def _cand(name, checks, score, expect=()):
    return local.Solution(name, None, list(expect), {"score": score, "max_score": 20, "passed": score >= 14,
                                                      "checks": [{"id": k, "status": v} for k, v in checks.items()]})


def test_verdicts_name_every_calibration_problem():
    ref = _cand("solution", {"a": "pass", "b": "pass"}, 20)
    good = _cand("weak", {"a": "fail", "b": "pass"}, 10, ["a"])
    assert local.verdicts([ref, good], 70) == []
    lucky = _cand("lucky", {"a": "pass", "b": "pass"}, 20, ["a", "zzz"])
    problems = local.verdicts([_cand("solution", {"a": "fail"}, 5), lucky], 70)
    assert problems == ["solution: does not reach pass_threshold 70% (5/20)",
                        "lucky: check a passed but baseline.yaml expects it to fail",
                        "lucky: expect_fail names unknown check 'zzz'",
                        "lucky: scores 20, not below the reference's 5"]


def test_timeline_marks_each_call_and_escapes_nothing_it_did_not_make():
    svg = render.timeline_svg([[0, 429, "rate_limit", False, 0], [1.5, 200, None, True, 0.02],
                               [2, 500, "server_error", False, 0], [3, 200, None, False, 0.01]], budget=0.05)
    assert svg.count("<circle") == 4 and 'fill="none"' in svg  # the retry is a ring
    assert "budget $0.05" in svg and "cumulative cost $0.0300" in svg
    assert render.timeline_svg([]).startswith("<p")


def test_notebook_html_escapes_candidate_content_and_keeps_images_as_data():
    nb = {"cells": [
        {"cell_type": "markdown", "source": "<script>x()</script>"},
        {"cell_type": "code", "source": "print(1)", "execution_count": 1, "outputs": [
            {"output_type": "display_data", "data": {"text/html": "<iframe src=//evil>", "image/png": "iVBORw0KGgo="}},
            {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["\x1b[31m<b>boom</b>\x1b[0m"]},
        ]},
    ]}
    page = render.notebook_html(nb)
    assert "<script>" not in page and "<iframe" not in page and "<b>boom" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;boom" in page
    assert 'src="data:image/png;base64,' in page


def test_a_failed_gate_means_not_passed_whatever_the_points_and_comes_first(tmp_path):
    run = tmp_path / "run"
    (run / "mock").mkdir(parents=True)
    (tmp_path / "grader").mkdir()
    checks = [{"id": "accuracy", "status": "pass", "points": 90, "max_points": 90},
              {"id": "pii", "status": "fail", "points": 0, "max_points": 10, "gate": True, "message": "leaked"},
              {"id": "budget", "status": "pass", "points": 0, "max_points": 0, "gate": True}]
    body = build_report(submission_id="s", task={"slug": "t", "grading": {"pass_threshold": 70}}, task_dir=tmp_path,
                        result={"checks": checks}, run={"status": "completed"}, run_dir=run)
    assert body["score"] == 90 and body["passed"] is False
    assert body["gates_failed"] == ["pii"]
    assert [c["id"] for c in body["checks"]] == ["pii", "accuracy", "budget"]
    assert body["checks"][0]["gate"] is True and body["checks"][1]["gate"] is False
    checks[1]["status"] = "pass"
    body = build_report(submission_id="s", task={"slug": "t", "grading": {"pass_threshold": 70}}, task_dir=tmp_path,
                        result={"checks": checks}, run={"status": "completed"}, run_dir=run)
    assert body["passed"] is True and body["gates_failed"] == []


def test_calibration_judge_wants_every_seed_right_and_prints_margins():
    from worksample.grading import calibration

    def graded(name, seed, score, checks):
        return calibration.Graded(name, seed, score, 100, score >= 70, 70, checks, [], "completed", 60.0, 0.01)

    cands = [local.Solution("solution", None, []), local.Solution("weak", None, ["a"])]
    cal = calibration.Calibration("t", "v", [0, 1], cands, graded=[
        graded("solution", 0, 95, {"a": "pass"}), graded("solution", 1, 92, {"a": "pass"}),
        graded("weak", 0, 40, {"a": "fail"}), graded("weak", 1, 72, {"a": "pass"})])
    assert calibration.judge(cal) == ["weak: passed under seed 1 (72/100)",
                                      "weak: check a passed under seed 1 but baseline.yaml expects it to fail"]
    table = calibration.format_table(cal)
    assert "+22.0%" in table and "-2.0%" in table  # worst seed: reference 92 vs 70, weak 72 vs 70
