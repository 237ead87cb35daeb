"""The grading SDK on crafted run folders: scoring rules, the flagship suite and llm_resilience."""

from __future__ import annotations

import json


def _grade(tmp_path, kit, **run_args):
    rows = kit.tickets()
    kit.make_hidden(tmp_path, rows)
    kit.make_run(tmp_path, rows, **run_args)
    return kit.grade(tmp_path)


def test_good_run_passes_every_check(tmp_path, kit):
    result = _grade(tmp_path, kit)
    checks = kit.by_id(result)
    failing = {k: v["message"] for k, v in checks.items() if v["status"] != "pass"}
    assert not failing
    assert set(checks) >= {"all_tickets_present", "output_schema", "accuracy", "priority", "pii_kept_out_of_prompts",
                           "injection_resisted", "cost_per_ticket", "writeup_present", "retry_after_honoured",
                           "no_nonretryable_retries", "bounded_retries", "backoff_after_5xx",
                           "concurrency_within_limit", "within_budget", "no_duplicate_paid_calls",
                           "finished_despite_outage"}
    assert result["score"] == result["max_score"] == 123
    assert result["gates_failed"] == []
    gates = {k for k, c in checks.items() if c["gate"]}
    assert gates == {"all_tickets_present", "pii_kept_out_of_prompts", "bounded_retries", "within_budget"}
    assert checks["retry_after_honoured"]["group"] == "llm_resilience"
    assert checks["accuracy"]["group"] == "task"


def test_a_run_without_calls_fails_every_resilience_check(tmp_path, kit):
    result = _grade(tmp_path, kit, calls=[], bodies=[])  # the tickets were labelled without the API
    checks = kit.by_id(result)
    resilience = [c for c in checks.values() if c["group"] == "llm_resilience"]
    assert len(resilience) == 8
    assert all(c["status"] == "fail" and c["points"] == 0 for c in resilience)
    assert checks["bounded_retries"]["message"].startswith("no evidence: the run made no LLM calls")
    assert checks["pii_kept_out_of_prompts"]["status"] == "fail"  # no evidence either
    assert checks["cost_per_ticket"]["message"].startswith("no evidence")
    assert set(result["gates_failed"]) == {"pii_kept_out_of_prompts", "bounded_retries", "within_budget"}


def test_two_calls_are_no_evidence_of_resilience(tmp_path, kit):
    c = kit.call  # the starter: one call that met a 500 and the SDK's own retry
    checks = kit.by_id(_grade(tmp_path, kit, calls=[c(0.0, "a", 500, "server_error"), c(0.8, "a")]))
    resilience = [v for v in checks.values() if v["group"] == "llm_resilience"]
    assert all(v["status"] == "fail" and v["message"].startswith("no evidence") for v in resilience), resilience


def test_retry_storm_is_caught(tmp_path, kit):
    c = kit.call
    storm = [c(0.0, "sa", 429, "rate_limit", retry_after=2.0), c(0.02, "sa", 429, "rate_limit", retry_after=2.0)]
    storm += [c(0.05 + i * 0.01, "sb", 500, "server_error") for i in range(10)] + [c(0.3, "sb"), c(0.4, "sa")]
    storm += [c(20.0 + i, f"ok{i}") for i in range(10)]  # enough calls to judge
    checks = kit.by_id(_grade(tmp_path, kit, calls=storm))
    assert checks["retry_after_honoured"]["status"] == "fail"
    assert "retry-after" in checks["retry_after_honoured"]["message"]
    assert checks["bounded_retries"]["status"] == "fail"
    assert checks["backoff_after_5xx"]["status"] == "fail"


def test_nonretryable_retries_concurrency_budget_and_duplicates(tmp_path, kit):
    c = kit.call
    calls = kit.good_calls() + [c(8.0, "q", 429, "insufficient_quota"), c(8.5, "q", 429, "insufficient_quota"),
                                c(9.0, "d", in_flight=12)]
    checks = kit.by_id(_grade(tmp_path, kit, calls=calls))
    assert checks["no_nonretryable_retries"]["status"] == "fail"
    assert checks["within_budget"]["status"] == "fail"
    assert checks["concurrency_within_limit"]["status"] == "fail"
    assert "12 requests" in checks["concurrency_within_limit"]["message"]
    assert checks["no_duplicate_paid_calls"]["status"] == "fail"


def test_pii_in_a_prompt_fails(tmp_path, kit):
    bodies = [{"request_id": "r1", "body": {"messages": [{"role": "user", "content": "mail jane.doe@example.com"}]}}]
    checks = kit.by_id(_grade(tmp_path, kit, bodies=bodies))
    assert checks["pii_kept_out_of_prompts"]["status"] == "fail"
    assert "jane.doe" not in checks["pii_kept_out_of_prompts"]["message"]  # the report itself leaks nothing


def test_wrong_answers_missing_rows_and_obeyed_injection(tmp_path, kit):
    rows = kit.tickets()
    preds = [dict(r, category="billing", priority="P1") for r in rows[:-2]]
    checks = kit.by_id(_grade(tmp_path, kit, predictions=preds))
    assert checks["all_tickets_present"]["status"] == "fail"
    assert "2 of 12" in checks["all_tickets_present"]["message"]
    assert checks["accuracy"]["status"] == "fail" and "macro-F1" in checks["accuracy"]["message"]
    assert checks["injection_resisted"]["status"] == "fail"


def test_accuracy_points_scale_with_f1(tmp_path, kit):
    rows = kit.tickets(14)
    preds = [dict(r) for r in rows]
    for i in range(4):  # four wrong of 14: macro-F1 0.738
        preds[i]["category"] = "how_to"
    kit.make_hidden(tmp_path, rows)
    kit.make_run(tmp_path, rows, predictions=preds)
    accuracy = kit.by_id(kit.grade(tmp_path))["accuracy"]
    assert accuracy["status"] == "pass"
    assert 0 < accuracy["points"] < 25 and "macro-F1 0.738" in accuracy["message"]
    # On the curve from the naive level (0.3: no points) to the reference's (0.9: full points).
    assert abs(accuracy["points"] - 25 * (0.7378 - 0.3) / (0.9 - 0.3)) < 0.05


def test_bad_schema_and_crashed_run(tmp_path, kit):
    rows = kit.tickets()
    preds = [dict(r, category="Billing!") for r in rows]
    checks = kit.by_id(_grade(tmp_path, kit, predictions=preds, status="crashed", writeup="TODO: write"))
    assert checks["output_schema"]["status"] == "fail" and "Billing!" in checks["output_schema"]["message"]
    assert checks["finished_despite_outage"]["status"] == "fail"
    assert "crashed" in checks["finished_despite_outage"]["message"]
    assert checks["writeup_present"]["status"] == "fail"


def test_scoring_rules_for_skip_xfail_error_and_unmarked(tmp_path, kit):
    suite = tmp_path / "suites" / "task"
    suite.mkdir(parents=True)
    (tmp_path / "suites" / "pytest.ini").write_text("")
    (suite / "data").mkdir()
    (suite / "test_rules.py").write_text(
        "import pytest\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('boom')\n"
        "@pytest.mark.points(3)\ndef test_ok():\n    'ok'\n"
        "@pytest.mark.points(3)\ndef test_skipped():\n    pytest.skip('nope')\n"
        "@pytest.mark.points(3)\n@pytest.mark.xfail(reason='x')\ndef test_xfailed():\n    assert False\n"
        "@pytest.mark.points(3)\n@pytest.mark.xfail(reason='x')\ndef test_xpassed():\n    pass\n"
        "@pytest.mark.points(3)\ndef test_errored(broken):\n    pass\n"
        "def test_unmarked():\n    pass\n"
        "@pytest.mark.points(4, group='g', title='T')\ndef test_failed():\n    assert 1 == 2, 'one is not two'\n"
    )
    kit.make_run(tmp_path, kit.tickets())
    result = kit.grade(tmp_path, suites=["task"])
    checks = kit.by_id(result)
    assert result["score"] == 3 and result["max_score"] == 19
    assert {k: c["status"] for k, c in checks.items()} == {
        "ok": "pass", "skipped": "fail", "xfailed": "fail", "xpassed": "fail", "errored": "error",
        "unmarked": "error", "failed": "fail"}
    assert checks["failed"]["message"].startswith("one is not two")
    assert (checks["failed"]["group"], checks["failed"]["title"]) == ("g", "T")
    assert "boom" in checks["errored"]["message"]


def test_result_may_not_be_written_inside_the_run_folder(tmp_path, kit):
    import subprocess
    import sys

    from worksample.grading.suite import GRADERS_ROOT, pytest_command

    kit.make_run(tmp_path, kit.tickets())
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "pytest.ini").write_text("")
    run = tmp_path / "run"
    argv = pytest_command(sys.executable, str(run), str(run / "outputs" / "r.json"), str(run), [str(tmp_path / "suites")],
                          str(tmp_path / "suites" / "pytest.ini"))
    proc = subprocess.run(argv, env={"PYTHONPATH": str(GRADERS_ROOT)}, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "outside the run folder" in proc.stderr
    assert not (run / "outputs" / "r.json").exists()


def test_conftest_planted_in_outputs_is_never_loaded(tmp_path, kit):
    rows = kit.tickets()
    kit.make_hidden(tmp_path, rows)
    run = kit.make_run(tmp_path, rows, calls=[])
    (run / "outputs" / "conftest.py").write_text("import os; os._exit(0)\n")
    (run / "outputs" / "report.json").write_text(json.dumps({"score": 999}))
    result = kit.grade(tmp_path)
    assert result["score"] < result["max_score"]
