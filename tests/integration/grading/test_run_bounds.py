"""The grading run is judged on what it produced, within its per-cell bound (real grading pods).

- the per-cell timeout stops one long cell well before the run's total, and
  the cells after it do not run;
- a submission that arrives with a pre-filled `outputs/` (the right answer
  planted in advance) is graded on what the run wrote, not on the planted file;
- with `grading.rerun` the second run starts from a fresh copy of the
  submission (nothing the first run wrote), and is not started at all after a
  run that timed out (a timeout costs one run, not two).
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def run_grading(db, mini_task, minitask, tmp_path, data_dir):
    """run(cells, cell_timeout=..., prefill=None, rerun=False) → the GradingOutcome of grading those cells
    (60 s run limit; with rerun, the task sets grading.rerun)."""
    from worksample.grading.runner import GradingInput, grade_workspace

    def run(cells: list[str], cell_timeout: float = 600, prefill: dict[str, str] | None = None, rerun: bool = False):
        spec = (mini_task / "task.yaml").read_text().replace(" rerun: true,", "")
        (mini_task / "task.yaml").write_text(spec.replace("timeout: 1m,", "timeout: 1m, rerun: true,") if rerun else spec)
        workspace = minitask.submission(tmp_path / f"sub{len(list(tmp_path.glob('sub*')))}", cells)
        for rel, text in (prefill or {}).items():
            (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
            (workspace / rel).write_text(text)
        work = tmp_path / f"work{len(list(tmp_path.glob('work*')))}"
        work.mkdir()
        return grade_workspace(GradingInput(task_dir=mini_task, workspace=workspace, work_dir=work,
                                            labels={"worksample.test": "1"}, cell_timeout=cell_timeout))

    yield run
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=worksample.data_dir={data_dir}"],
                          capture_output=True, text=True).stdout.split()
    if left:
        subprocess.run(["docker", "rm", "-f", *left], capture_output=True)


def _checks(outcome) -> dict[str, str]:
    return {c["id"]: c["status"] for c in outcome.result.get("checks", [])}


@pytest.mark.timeout(300)
def test_one_cell_over_the_per_cell_timeout_stops_the_run_long_before_the_total(run_grading):
    began = time.monotonic()
    outcome = run_grading(["import time\ntime.sleep(40)", "print('DONE', 6 * 7)"], cell_timeout=4, rerun=True)
    assert outcome.run.status.value == "timeout"
    assert outcome.run.duration_s < 20  # the 60 s run limit was not what stopped it
    assert any("cell 1" in e for e in outcome.run.errors), outcome.run.errors
    assert "DONE 42" not in (outcome.run_dir / "notebook.ipynb").read_text()  # cell 2 never ran
    assert time.monotonic() - began < 120
    rerun = json.loads((outcome.run_dir / "rerun" / "run.json").read_text())  # the task asks for a second run...
    assert rerun["status"] == "skipped" and "timed out" in rerun["errors"][0], rerun  # ...which a timeout skips
    assert "rerun_s" not in outcome.timings


@pytest.mark.timeout(300)
def test_a_prefilled_outputs_folder_is_not_graded_as_the_runs_work(run_grading, minitask):
    planted = {"outputs/result.txt": str(sum(minitask.HIDDEN_NUMBERS))}  # the right answer, written in advance
    outcome = run_grading(["print('DONE', 0)"], prefill=planted)
    checks = _checks(outcome)
    assert checks["sum_correct"] == "fail", checks
    assert not (outcome.run_dir / "outputs" / "result.txt").exists()
    # The same planted file with a run that writes its own wrong answer: the run's answer is graded. With a
    # second run (grading.rerun), that one starts from the submission as sent too: no planted file, and no
    # runs.txt from the first run (each run counts the runs it can see in its workspace).
    outcome = run_grading(["import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write('0')\n"
                           "open('runs.txt', 'a').write('x')\nopen('outputs/runs.txt', 'w').write(open('runs.txt').read())\n"
                           "print('DONE')"], prefill=planted, rerun=True)
    assert _checks(outcome)["sum_correct"] == "fail"
    for run in (outcome.run_dir, outcome.run_dir / "rerun"):
        assert (run / "outputs" / "result.txt").read_text() == "0"
        assert (run / "outputs" / "runs.txt").read_text() == "x", run  # a fresh workspace each time
    assert json.loads((outcome.run_dir / "rerun" / "run.json").read_text())["status"] == "completed"
    assert outcome.timings["rerun_notebook_s"] > 0
