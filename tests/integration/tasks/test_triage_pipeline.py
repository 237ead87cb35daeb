"""support-ticket-triage through the real grading pipeline: workload pod, grading mock, hidden suite.

The full calibration (reference + all five baselines) is `worksample task test
tasks/support-ticket-triage` (about ten minutes); here the reference and the
cheapest telling baseline run, within the per-test limits.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

TASK = Path(__file__).resolve().parents[3] / "tasks" / "support-ticket-triage"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def grade(data_dir: Path):
    """grade(folder) → the report of that submission folder graded against the flagship task."""
    from worksample.grading.local import grade_path

    def run(folder: Path) -> dict:
        return grade_path(folder, str(TASK), labels={"worksample.test": "1"})

    yield run
    leftover = subprocess.run(["docker", "ps", "-aq", "--filter", "label=worksample.test=1", "--filter",
                               f"label=worksample.data_dir={data_dir}"], capture_output=True, text=True).stdout.split()
    if leftover:
        subprocess.run(["docker", "rm", "-f", *leftover], capture_output=True)
    assert not leftover, f"grading pods left behind: {leftover}"


def _checks(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


@pytest.mark.timeout(420)
def test_reference_passes_every_check_in_a_grading_pod(grade):
    report = grade(TASK / "solution")
    failing = {k: c["message"] for k, c in _checks(report).items() if c["status"] != "pass"}
    assert report["run"]["status"] == "completed", report["run"]
    assert report["passed"] and not failing, failing
    assert report["run"]["duration_s"] <= 120
    assert report["llm"]["cost_usd"] <= yaml.safe_load((TASK / "profiles" / "grading.yaml").read_text())["budget_usd"]


@pytest.mark.timeout(300)
def test_lazy_baseline_fails_what_it_names_in_a_grading_pod(grade):
    spec = yaml.safe_load((TASK / "baselines" / "lazy" / "baseline.yaml").read_text())
    report = grade(TASK / "baselines" / "lazy")
    checks = _checks(report)
    assert report["llm"]["calls"] == 0
    assert all(checks[name]["status"] != "pass" for name in spec["expect_fail"]), {n: checks[n] for n in spec["expect_fail"]}
    assert not report["passed"]
