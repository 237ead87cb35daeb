"""churn-model through the real grading pipeline: notebook pod on the hidden month, hidden suite in the grader.

The full calibration (reference + six baselines) is `worksample task test
tasks/churn-model`; here the reference and the leaky baseline run, the pair
that shows the hidden month doing its job: the same pipeline with and
without the leaking column. The task sets `grading.rerun`, so each grading
runs the notebook twice (two pods); the leaky baseline is graded seeded from
the clock, so the same grading shows the second run catching a notebook whose
code looks seeded (the `nondeterministic` baseline's trick).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from graded_reports import assert_fails_what_it_names, checks_by_id, grade_reference

TASK = Path(__file__).resolve().parents[3] / "tasks" / "churn-model"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.mark.timeout(600)
def test_reference_earns_full_points_on_the_later_month(grade):
    report = grade_reference(grade, TASK)
    assert report["score"] == report["max_score"]
    assert report["llm"]["calls"] == 0  # the task needs no LLM: the pod's mock stays idle
    # The second run really happened, in its own pod, and agreed customer by customer.
    assert "a second run in a fresh sandbox gave the same" in checks_by_id(report)["reproducible"]["message"]
    rerun = json.loads((Path(report["run_dir"]) / "rerun" / "run.json").read_text())
    assert rerun["status"] == "completed" and rerun["cells"] == report["run"]["cells"], rerun
    assert report["timings"]["rerun_notebook_s"] > 0


def _seeded_from_the_clock(folder: Path, dest: Path) -> Path:
    """A copy of a submission whose notebook takes its seed from the clock (every call still has a random_state)."""
    shutil.copytree(folder, dest)
    nb = json.loads((dest / "churn.ipynb").read_text())
    sources = [cell["source"] for cell in nb["cells"] if cell["cell_type"] == "code"]
    hits = [src for src in sources if "SEED = 0\n" in src]
    assert len(hits) == 1, "the notebook no longer sets SEED = 0 in one line: update this test"
    hits[0][hits[0].index("SEED = 0\n")] = "import time\nSEED = int(time.time())\n"
    (dest / "churn.ipynb").write_text(json.dumps(nb))
    return dest


@pytest.mark.timeout(600)
def test_leaky_baseline_is_caught_by_the_later_month_and_a_clock_seed_by_the_second_run(grade, tmp_path):
    report = grade(_seeded_from_the_clock(TASK / "baselines" / "leaky", tmp_path / "leaky"))
    assert report["run"]["status"] == "completed", report["run"]
    checks = assert_fails_what_it_names(report, TASK / "baselines" / "leaky")
    assert "relies on the leak" in checks["leak_not_used"]["message"]
    assert checks["predictions_complete"]["status"] == "pass"  # a complete, valid deliverable: it is the model that fails
    assert not report["passed"]
    reproducible = checks["reproducible"]
    assert reproducible["status"] == "fail" and "probabilities changed" in reproducible["message"], reproducible
    assert "one that changes between runs" in reproducible["message"]  # the static look found nothing unseeded
    assert "reproducible" in report["gates_failed"]
