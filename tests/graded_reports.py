"""What the task pipeline tests assert of a grading report (tests/integration/tasks/test_*_pipeline.py).

A reference must pass every check; a baseline must fail each check its baseline.yaml names under
`expect_fail`; what the mock spent must stay within the grading profile's budget.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def checks_by_id(report: dict) -> dict[str, dict]:
    """The report's checks, by check id."""
    return {c["id"]: c for c in report["checks"]}


def assert_passes_every_check(report: dict) -> None:
    """Assert that the notebook run completed and the report passed with no check short of `pass`."""
    failing = {k: c["message"] for k, c in checks_by_id(report).items() if c["status"] != "pass"}
    assert report["run"]["status"] == "completed", report["run"]
    assert report["passed"] and not failing, failing


def grade_reference(grade, task: Path) -> dict:
    """Grade `task`'s reference solution with the task tests' `grade` fixture and assert that it passes every
    check (`assert_passes_every_check`); the report."""
    report = grade(task / "solution")
    assert_passes_every_check(report)
    return report


def assert_fails_what_it_names(report: dict, baseline: Path) -> dict[str, dict]:
    """Assert that no check named under `expect_fail` in `baseline`/baseline.yaml passed; the report's checks by id."""
    spec = yaml.safe_load((baseline / "baseline.yaml").read_text())
    checks = checks_by_id(report)
    assert all(checks[name]["status"] != "pass" for name in spec["expect_fail"]), \
        {n: checks[n] for n in spec["expect_fail"]}
    return checks


def assert_within_budget(report: dict, task: Path) -> None:
    """Assert that the grading mock's cost stayed within the budget of `task`'s grading profile."""
    budget = yaml.safe_load((task / "profiles" / "grading.yaml").read_text())["budget_usd"]
    assert report["llm"]["cost_usd"] <= budget, (report["llm"]["cost_usd"], budget)
