"""`worksample grade` and `worksample task test` as a user runs them, on a small real task (Docker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

WORKSAMPLE = [sys.executable, "-m", "worksample"]


def _run(args: list[str], data_dir, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKSAMPLE_DATA_DIR": str(data_dir), "WORKSAMPLE_GRADING_POD_LABELS": "worksample.test=1"}
    return subprocess.run(WORKSAMPLE + args, env=env, capture_output=True, text=True, timeout=timeout)


def test_grade_a_folder_prints_the_report_as_json(mini_task, data_dir, no_test_containers_left):
    proc = _run(["grade", str(mini_task / "solution"), "--task", str(mini_task), "--json"], data_dir)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["score"], report["max_score"], report["passed"]) == (20, 20, True)
    assert report["run"] == {"status": "completed", "duration_s": report["run"]["duration_s"], "cells": 3,
                             "errors": [], "output_truncated": False}
    assert {c["id"] for c in report["checks"]} == {"sum_correct", "run_completed", "output_seen_by_runner"}
    assert set(report["llm"]) >= {"calls", "status_counts", "retries", "rate_limited", "cost_usd", "prompt_tokens",
                                  "completion_tokens", "max_in_flight"}
    assert report["versions"]["task"] and report["versions"]["grader"]
    executed = nbformat.read(report["run_dir"] + "/notebook.ipynb", as_version=4)
    assert "DONE 26" in executed.cells[-1].outputs[0]["text"]  # recorded by the host, from the hold-out data


def test_grade_a_single_notebook_and_a_bad_one(mini_task, data_dir, tmp_path, minitask, no_test_containers_left):
    nb = tmp_path / "mine.ipynb"
    nbformat.write(minitask.notebook(minitask.GOOD_CELLS), nb)
    proc = _run(["grade", str(nb), "--task", str(mini_task)], data_dir)
    assert proc.returncode == 0, proc.stderr
    assert "score 20/20  PASSED" in proc.stdout and "pass      10/10   sum_correct" in proc.stdout
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "solution.ipynb").write_text("{not json")
    proc = _run(["grade", str(broken), "--task", str(mini_task), "--json"], data_dir)
    report = json.loads(proc.stdout)
    assert report["run"]["status"] == "error" and "not a readable Jupyter notebook" in report["run"]["errors"][0]
    assert report["score"] == 0
    proc = _run(["grade", str(tmp_path / "missing"), "--task", str(mini_task)], data_dir)
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr


def _baseline(task, name: str, cells: list[str], expect_fail: list[str], minitask) -> None:
    folder = task / "baselines" / name
    minitask.submission(folder, cells)
    (folder / "baseline.yaml").write_text(f"expect_fail: {json.dumps(expect_fail)}\n")


def test_task_test_passes_a_calibrated_task_and_fails_a_miscalibrated_one(mini_task, data_dir, minitask,
                                                                        no_test_containers_left):
    read = minitask.GOOD_CELLS[0]
    _baseline(mini_task, "wrong_sum", [read, "os.makedirs('outputs', exist_ok=True)\n"
                                             "open('outputs/result.txt', 'w').write('1')\nprint('DONE')"],
              ["sum_correct"], minitask)
    proc = _run(["task", "test", str(mini_task)], data_dir, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in proc.stdout.splitlines() if line[:1].isalpha()}
    assert rows["solution"] == ["20.0/20", "PASS"] and rows["wrong_sum"] == ["10.0/20", "fail"], proc.stdout
    assert "OK:" in proc.stdout
    _baseline(mini_task, "claims_too_much", minitask.GOOD_CELLS, ["run_completed"], minitask)
    proc = _run(["task", "test", str(mini_task)], data_dir, timeout=300)
    assert proc.returncode == 1, proc.stdout
    assert "FAIL claims_too_much: check run_completed passed under seed 0 but baseline.yaml expects it to fail" \
        in proc.stdout
    assert "FAIL claims_too_much: scores 20" in proc.stdout
