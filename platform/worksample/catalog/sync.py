"""The one way a task folder becomes a `tasks` row: slug, title, path, parsed spec and one content hash.

Every path that writes the row (the catalog sync at `up`, an invite naming a
task not imported yet, local grading and `task test`) goes through
`sync_task`, so `Task.version` is the same hash (`task_version`) whichever ran
last. Invalid folders are skipped by `sync_catalog` (`worksample task validate`
says why); nothing half-imported.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import select

from worksample.catalog.loader import TaskInvalid, list_tasks, load_task
from worksample.catalog.spec import TaskSpec
from worksample.config import get_settings
from worksample.db import Task, session_scope

log = logging.getLogger(__name__)


def task_version(folder: Path) -> str:
    """sha256 (hex) over every file's path relative to `folder` and its bytes (a symlink by its target),
    sorted; caches left out. The task's `version`."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(str(path.readlink()).encode() if path.is_symlink() else path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def sync_task(spec: TaskSpec) -> Task:
    """Insert or refresh the row of a loaded task; returns the row (detached, attributes loaded)."""
    folder = Path(spec.folder).resolve()
    with session_scope() as db:
        row = db.scalar(select(Task).where(Task.slug == spec.slug))
        if row is None:
            row = Task(slug=spec.slug)
            db.add(row)
        row.title, row.path = spec.title, str(folder)
        row.version, row.spec = task_version(folder), spec.model_dump(mode="json")
        db.flush()
        return row


def sync_folder(folder: Path) -> Task:
    """Load the task folder (TaskInvalid if it does not validate) and sync its row."""
    return sync_task(load_task(folder))


def sync_catalog(tasks_dir: Path | None = None) -> list[str]:
    """Import every valid task under `tasks_dir` (default: the settings'); return their slugs."""
    root = Path(tasks_dir or get_settings().tasks_dir)
    return [sync_task(spec).slug for spec in list_tasks(root)]


def ensure_task(slug: str) -> Task | None:
    """The task row for `slug`, importing it from disk first if the database lacks it; None if unknown."""
    with session_scope() as db:
        row = db.scalar(select(Task).where(Task.slug == slug))
        if row is not None:
            return row
    folder = Path(get_settings().tasks_dir) / slug
    if not (folder / "task.yaml").is_file():
        return None
    try:
        return sync_folder(folder)
    except TaskInvalid as exc:
        log.warning("task %s is invalid: %s", slug, exc)
        return None


def task_spec(row: Task) -> TaskSpec:
    """The task's spec as loaded from its folder (so paths resolve), falling back to the stored JSON."""
    try:
        return load_task(row.path)
    except TaskInvalid:
        spec = TaskSpec.model_validate(row.spec)
        spec._folder = Path(row.path)
        return spec
