"""Checks on a task beyond its schema: limits, paths, profiles, rubric, secrecy.

Each check returns problems rather than raising, so one run of
`worksample task validate` reports everything wrong with a folder at once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from worksample.catalog.loader import TASK_FILE, Problem
from worksample.catalog.spec import MAX_TIME_LIMIT, TaskSpec, format_duration

# Names that are hidden by convention: if the candidate could read one, the
# task leaks its grader, its answers or its fault plan.
_HIDDEN_DIRS = {"grader", "solution", "baselines", "profiles"}
_HIDDEN_FILE = re.compile(r"(^oracle\.py$|^service\.py$|label|answer|holdout|hold-out|grading)", re.IGNORECASE)
SERVICE_LOAD_TIMEOUT_S = 30.0


def check_task(task: TaskSpec, folder: Path) -> list[Problem]:
    """All problems with a schema-valid task in `folder`."""
    file = str(folder / TASK_FILE)
    problems: list[Problem] = []
    problems += _check_identity(task, folder, file)
    problems += _check_paths(task, folder, file)
    if not problems:
        # Later checks open the files the paths name, so they need sound paths.
        problems += _check_entrypoint(task, folder, file)
        problems += _check_profiles(task, folder)
        problems += _check_secrecy(task, folder, file)
    problems += _check_rubric(task, file)
    problems += _check_grading(task, file)
    return problems


def _check_identity(task: TaskSpec, folder: Path, file: str) -> list[Problem]:
    problems = []
    if task.time_limit > MAX_TIME_LIMIT:
        problems.append(Problem(file, "time_limit", f"{format_duration(task.time_limit)} is over 2h: work samples are capped at two hours"))
    name = folder.resolve().name
    if task.slug != name:
        problems.append(Problem(file, "slug", f"{task.slug!r} does not match the folder name {name!r}"))
    return problems


def _path_fields(task: TaskSpec) -> list[tuple[str, str, str]]:
    """(dotted field, relative path, expected kind) for every path in the task."""
    fields = [
        ("workspace.starter", task.workspace.starter, "dir"),
        ("workspace.data", task.workspace.data, "dir"),
        ("grading.suite", task.grading.suite, "dir"),
    ]
    if task.mock_llm is not None:
        fields.append(("mock_llm.attempt_profile", task.mock_llm.attempt_profile, "file"))
        fields.append(("mock_llm.grading_profile", task.mock_llm.grading_profile, "file"))
        if task.mock_llm.oracle is not None:
            fields.append(("mock_llm.oracle", task.mock_llm.oracle, "file"))
        if task.mock_llm.service is not None:
            fields.append(("mock_llm.service", task.mock_llm.service, "file"))
    return fields


def _check_paths(task: TaskSpec, folder: Path, file: str) -> list[Problem]:
    problems = []
    for field, rel, kind in _path_fields(task):
        message = path_problem(folder, rel, kind)
        if message:
            problems.append(Problem(file, field, message))
    return problems


def path_problem(folder: Path, rel: str, kind: str) -> str | None:
    """Why `rel` is not a sound path of `kind` ("file"/"dir") inside `folder`, or None."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or Path(rel).is_absolute() or rel.startswith("~"):
        return f"{rel!r} must be relative to the task folder"
    if ".." in pure.parts:
        return f"{rel!r} must not leave the task folder ('..')"
    target = folder / rel
    if not _inside(target, folder):
        return f"{rel!r} resolves outside the task folder (symlink?)"
    if not target.exists():
        return f"{rel!r} does not exist"
    if kind == "dir" and not target.is_dir():
        return f"{rel!r} is not a folder"
    if kind == "file" and not target.is_file():
        return f"{rel!r} is not a file"
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_entrypoint(task: TaskSpec, folder: Path, file: str) -> list[Problem]:
    entry = task.workspace.entrypoint
    message = path_problem(folder / task.workspace.starter, entry, "file")
    if message:
        why = "" if message.endswith("does not exist") else f" ({message})"
        return [Problem(file, "workspace.entrypoint", f"{entry!r} is missing from {task.workspace.starter}{why}")]
    if not entry.endswith(".ipynb"):
        return [Problem(file, "workspace.entrypoint", f"{entry!r} is not a notebook (.ipynb)")]
    return []


def _check_profiles(task: TaskSpec, folder: Path) -> list[Problem]:
    if task.mock_llm is None:
        return []
    # The mock's own validation, so the task validator and the mock never disagree.
    from worksample.mockllm.profile import ProfileError, load_profile

    problems = []
    for rel in (task.mock_llm.attempt_profile, task.mock_llm.grading_profile):
        try:
            load_profile(folder / rel)
        except ProfileError as exc:
            problems.append(Problem(exc.path, exc.key, exc.message))
    return problems


def _check_rubric(task: TaskSpec, file: str) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for i, item in enumerate(task.rubric):
        if item.id in seen:
            problems.append(Problem(file, f"rubric.{i}.id", f"{item.id!r} is not unique"))
        seen.add(item.id)
    return problems


def _check_secrecy(task: TaskSpec, folder: Path, file: str) -> list[Problem]:
    """Hidden files (grader, labels, oracle, grading profile) must stay out of starter/ and data/."""
    hidden = [("grading.suite", folder / task.grading.suite)]
    if task.mock_llm is not None:
        hidden.append(("mock_llm.grading_profile", folder / task.mock_llm.grading_profile))
        if task.mock_llm.oracle:
            hidden.append(("mock_llm.oracle", folder / task.mock_llm.oracle))
        if task.mock_llm.service:
            hidden.append(("mock_llm.service", folder / task.mock_llm.service))
    problems = []
    for field, rel in (("workspace.starter", task.workspace.starter), ("workspace.data", task.workspace.data)):
        visible = (folder / rel).resolve()
        for what, path in hidden:
            if path.resolve().is_relative_to(visible):
                problems.append(Problem(file, field, f"the candidate would see hidden {what} ({path.relative_to(folder)})"))
        problems += _scan_visible(folder, rel, field, file)
    return problems


def _scan_visible(folder: Path, rel: str, field: str, file: str) -> list[Problem]:
    """Walk a candidate-visible tree for hidden-looking names and symlinks that leave the task."""
    problems = []
    root = folder / rel
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            shown = path.relative_to(folder).as_posix()
            if path.is_symlink() and not _inside(path, folder):
                problems.append(Problem(file, field, f"{shown} is a symlink out of the task folder"))
            elif name in _HIDDEN_DIRS and path.is_dir():
                problems.append(Problem(file, field, f"{shown} looks hidden ({name}/) but the candidate would see it"))
            elif _HIDDEN_FILE.search(name) and path.is_file():
                problems.append(Problem(file, field, f"{shown} looks hidden (labels, oracle or grading file) but the candidate would see it"))
    return problems


def _check_grading(task: TaskSpec, file: str) -> list[Problem]:
    """The grading timeout fits the timeout ladder (each run, with grading.rerun); every included suite exists
    in graders/suites/."""
    from worksample.grading.suite import SUITES_ROOT
    from worksample.timeouts import ladder_problem

    problems = []
    message = ladder_problem(task.grading.timeout.total_seconds(), runs=task.grading.runs)
    if message:
        problems.append(Problem(file, "grading.timeout", message))
    known = sorted(p.name for p in SUITES_ROOT.iterdir() if p.is_dir() and p.name.isidentifier()
                   and not p.name.startswith("_")) if SUITES_ROOT.is_dir() else []
    for i, name in enumerate(task.grading.include):
        if name not in known or not name.isidentifier():
            problems.append(Problem(file, f"grading.include.{i}",
                                    f"unknown suite {name!r} (known: {', '.join(known) or 'none'})"))
    return problems


def check_service_loads(task: TaskSpec, folder: Path) -> list[Problem]:
    """The task's service.py imports and defines an ASGI app (DESIGN §14); [] when it does or there is none.

    Task code is imported in a child interpreter with a time limit, as the mock
    would import it, so a slow or broken service cannot hang or pollute the caller.
    A `service.py` beside task.yaml that task.yaml does not name is a problem too:
    the mock would never serve it.
    """
    import subprocess
    import sys

    file = str(folder / TASK_FILE)
    service = task.mock_llm.service if task.mock_llm else None
    if service is None:
        if (folder / "service.py").is_file():
            return [Problem(file, "mock_llm.service", "service.py is in the task folder but not named here, so no pod serves it")]
        return []
    path = (folder / service).resolve()
    probe = ("import sys\nfrom worksample.mockllm.service import ServiceLoadError, load_service\n"
             "try:\n    load_service(sys.argv[1])\nexcept ServiceLoadError as exc:\n"
             "    sys.exit(str(exc).removeprefix(sys.argv[1] + ': '))")
    try:
        done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True,
                              timeout=SERVICE_LOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return [Problem(str(path), "(load)", f"importing the service took over {SERVICE_LOAD_TIMEOUT_S:.0f}s")]
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        return [Problem(str(path), "(load)", reason[:500])]
    return []
