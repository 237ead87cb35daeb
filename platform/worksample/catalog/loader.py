"""Reading and validating task folders.

`validate_task` returns every problem it can find, each printable as
`file: field: message`; `load_task` returns the `TaskSpec` or raises `TaskInvalid`
carrying those problems. The checks beyond the schema live in `checks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from worksample.catalog.spec import TaskSpec
from worksample.errors import WorksampleError

TASK_FILE = "task.yaml"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a task folder."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class TaskInvalid(WorksampleError):
    """A task folder that does not validate; `problems` lists why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid task"
        more = f" (and {len(problems) - 1} more; run `worksample task validate`)" if len(problems) > 1 else ""
        super().__init__(first + more)


def task_paths(path: str | Path) -> tuple[Path, Path]:
    """(folder, task.yaml) for a path naming either the folder or its task.yaml."""
    path = Path(path)
    if path.name == TASK_FILE or path.is_file():
        return path.parent, path
    return path, path / TASK_FILE


def validate_task(path: str | Path) -> list[Problem]:
    """Every problem with the task at `path` (a folder or its task.yaml); [] when valid."""
    task, problems = _parse(path)
    if task is None:
        return problems
    from worksample.catalog.checks import check_service_loads, check_task

    folder = task_paths(path)[0]
    problems = check_task(task, folder)
    # Importing task code costs a child interpreter: only `task validate` does it, not every load.
    return problems or check_service_loads(task, folder)


def load_task(path: str | Path) -> TaskSpec:
    """Load and fully validate the task at `path`; raises TaskInvalid listing the problems."""
    task, problems = _parse(path)
    if task is not None:
        from worksample.catalog.checks import check_task

        problems = check_task(task, task_paths(path)[0])
    if problems or task is None:
        raise TaskInvalid(problems)
    return task


def list_tasks(root: str | Path) -> list[TaskSpec]:
    """The valid tasks in the folders directly under `root`, by slug; invalid ones are left out."""
    tasks = []
    for folder in task_folders(root):
        try:
            tasks.append(load_task(folder))
        except TaskInvalid:
            continue
    return sorted(tasks, key=lambda t: t.slug)


def task_folders(root: str | Path) -> list[Path]:
    """Folders directly under `root` that hold a task.yaml, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / TASK_FILE).is_file())


def _parse(path: str | Path) -> tuple[TaskSpec | None, list[Problem]]:
    """Read task.yaml and validate it against the schema only."""
    folder, file = task_paths(path)
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(name, "(file)", "no task.yaml here")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, "(file)", f"cannot read: {exc}")]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return None, [Problem(name, "(document)", f"invalid YAML{where}")]
    if not isinstance(data, dict):
        return None, [Problem(name, "(document)", "task.yaml must be a mapping")]
    try:
        task = TaskSpec.model_validate(data)
    except ValidationError as exc:
        return None, [_from_pydantic(name, err) for err in exc.errors()]
    task._folder = folder
    return task, []


def _from_pydantic(file: str, err: dict) -> Problem:
    field = ".".join(str(part) for part in err.get("loc", ())) or "(document)"
    kind = err.get("type")
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "required key missing"
    else:
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return Problem(file, field, message)
