"""Helpers for the validity attacks: a real mock process and the flagship's real hidden suite.

Paths come from this file's place in the repository (not from the installed
package), so the same tests can be pointed at an older checkout to show they
failed there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[3]
TASK = REPO / "tasks" / "support-ticket-triage"
GRADERS = REPO / "graders"


def holdout() -> list[dict]:
    """The flagship's hold-out tickets."""
    import csv

    with (TASK / "grader" / "data" / "holdout" / "tickets.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def grade_run(root: Path, *, calls: Path | None, bodies: Path | None, predictions: list[dict], writeup: str,
              status: str = "completed") -> dict[str, dict]:
    """Grade a run folder (the given mock logs, CSV and write-up) with the flagship's real suites; checks by id."""
    run, suites = root / "run", root / "suites"
    (run / "mock").mkdir(parents=True)
    (run / "outputs").mkdir()
    for src, name in ((calls, "calls.jsonl"), (bodies, "bodies.jsonl")):
        if src is not None and src.exists():
            shutil.copy(src, run / "mock" / name)
    with (run / "outputs" / "triage.csv").open("w", encoding="utf-8") as fh:
        fh.write("id,category,priority\n" + "".join(f"{p['id']},{p['category']},{p['priority']}\n" for p in predictions))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1"), nbformat.v4.new_markdown_cell(writeup)])
    nbformat.write(nb, run / "notebook.ipynb")
    (run / "run.json").write_text(json.dumps({"status": status, "duration_s": 30, "cells": 2, "errors": []}))
    (run / "profile.json").write_text(json.dumps({"budget_usd": 0.11}))
    (run / "task.json").write_text(json.dumps({"slug": "support-ticket-triage"}))
    shutil.copytree(TASK / "grader", suites / "task", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(GRADERS / "suites" / "llm_resilience", suites / "llm_resilience", ignore=shutil.ignore_patterns("__pycache__"))
    (suites / "pytest.ini").write_text("")
    result = root / "out" / "result.json"
    argv = [sys.executable, "-B", "-m", "pytest", "-q", "-c", str(suites / "pytest.ini"), "--rootdir", str(suites),
            "--confcutdir", str(suites), "-p", "no:cacheprovider", "-p", "worksample_grader.plugin",
            "--import-mode=importlib", "--ws-run", str(run), "--ws-result", str(result),
            "--ws-hidden-data", str(suites / "task" / "data"), "-W", "ignore::DeprecationWarning",
            str(suites / "task"), str(suites / "llm_resilience")]
    proc = subprocess.run(argv, cwd=suites, env={"PYTHONPATH": str(GRADERS), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=240)
    assert result.exists(), f"no result\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return {c["id"]: c for c in json.loads(result.read_text())["checks"]}
