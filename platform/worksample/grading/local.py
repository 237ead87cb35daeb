"""Grading from the command line: a folder or a notebook becomes a submission, graded by the same job.

`grade_path` makes the submission row and its artifacts exactly as an attempt
does, then runs `grade_submission` in this process (the queue is skipped, the
pipeline is not). `test_task` does that for a task's reference and baselines.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from worksample.config import get_settings
from worksample.db import migrate
from worksample.db.models import new_id
from worksample.errors import UsageError
from worksample.grading import submissions
from worksample.grading.grade import grade_submission

IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".git")


def task_folder(slug_or_path: str) -> Path:
    """A task folder from a slug (under the tasks dir) or a path; UsageError if neither."""
    path = Path(slug_or_path)
    if (path / "task.yaml").is_file():
        return path.resolve()
    folder = Path(get_settings().tasks_dir) / slug_or_path
    if (folder / "task.yaml").is_file():
        return folder.resolve()
    raise UsageError(f"--task: {slug_or_path!r} is neither a task slug under {get_settings().tasks_dir} nor a task folder")


def stage_submission(source: Path, entrypoint: str, dest: Path) -> None:
    """Copy a folder (or one notebook, renamed to the entrypoint) to `dest` (links are not copied)."""
    if source.is_file():
        if source.suffix != ".ipynb":
            raise UsageError(f"{source}: give a folder or a .ipynb notebook")
        dest.mkdir(parents=True)
        shutil.copyfile(source, dest / entrypoint)
    elif source.is_dir():
        shutil.copytree(source, dest, symlinks=True, ignore=IGNORED)
    else:
        raise UsageError(f"{source}: no such file or folder")


def grade_path(path: Path, task_ref: str, labels: dict[str, str] | None = None) -> dict:
    """Grade a folder or notebook against a task; returns the report body (also stored in the database)."""
    folder = task_folder(task_ref)
    migrate()
    task = submissions.register_task(folder)
    submission_id = new_id()
    artifacts = get_settings().resolved_data_dir / "submissions" / submission_id
    stage_submission(Path(path), task.spec["workspace"]["entrypoint"], artifacts / "workspace")
    submissions.create_submission(task, artifacts, submission_id)
    body = grade_submission(submission_id, labels)
    if body is None:  # someone else claimed it: impossible for a fresh id, but never print nothing
        raise UsageError(f"submission {submission_id} was not graded")
    return body


@dataclass
class Solution:
    """One solution `task test` grades: the reference or a baseline, and what it must fail."""

    name: str
    path: Path
    expect_fail: list[str]
    report: dict | None = None


def solutions(folder: Path) -> list[Solution]:
    """The reference (`solution/`) and each `baselines/*` with its `baseline.yaml` expect_fail list."""
    found = [Solution("solution", folder / "solution", [])]
    for base in sorted((folder / "baselines").glob("*/")):
        spec_path = base / "baseline.yaml"
        spec = yaml.safe_load(spec_path.read_text()) if spec_path.is_file() else None
        expect = spec.get("expect_fail") if isinstance(spec, dict) else None
        if not isinstance(expect, list) or not expect:
            raise UsageError(f"{spec_path}: expect_fail: a non-empty list of check ids is required")
        found.append(Solution(base.name, base, [str(e) for e in expect]))
    if not found[0].path.is_dir():
        raise UsageError(f"{folder / 'solution'}: the reference solution folder is missing")
    return found


def verdicts(cands: list[Solution], threshold: float) -> list[str]:
    """Problems found (empty when the reference passes and each baseline fails what it names, scoring less)."""
    problems = []
    ref = cands[0].report
    if ref is None or not ref.get("passed"):
        score = f"{ref['score']}/{ref['max_score']}" if ref else "no report"
        problems.append(f"solution: does not reach pass_threshold {threshold}% ({score})")
    for cand in cands[1:]:
        checks = {c["id"]: c for c in (cand.report or {}).get("checks", [])}
        for check_id in cand.expect_fail:
            if check_id not in checks:
                problems.append(f"{cand.name}: expect_fail names unknown check {check_id!r}")
            elif checks[check_id]["status"] == "pass":
                problems.append(f"{cand.name}: check {check_id} passed but baseline.yaml expects it to fail")
        if ref and cand.report and cand.report["score"] >= ref["score"]:
            problems.append(f"{cand.name}: scores {cand.report['score']}, not below the reference's {ref['score']}")
    return problems
