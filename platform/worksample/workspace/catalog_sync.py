"""Seed the `tasks` table from the task folders under `tasks/` (WORKSAMPLE_TASKS_DIR).

A task row is the catalog's view at import time: slug, title, a content hash of
the whole folder as `version`, its path, and the parsed spec as JSON. Invalid
folders are skipped (`worksample task validate` says why); nothing half-imported.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import select

from worksample.catalog import TaskInvalid, list_tasks, load_task
from worksample.catalog.spec import Task as TaskSpec
from worksample.config import get_settings
from worksample.db import Task, session_scope

log = logging.getLogger(__name__)


def folder_hash(folder: Path) -> str:
    """sha256 over every file's relative path and bytes (symlinks by target), in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(str(path.readlink()).encode() if path.is_symlink() else path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _upsert(spec: TaskSpec) -> str:
    folder = Path(spec.folder).resolve()
    with session_scope() as db:
        row = db.scalar(select(Task).where(Task.slug == spec.slug))
        if row is None:
            row = Task(slug=spec.slug)
            db.add(row)
        row.title = spec.title
        row.version = folder_hash(folder)
        row.path = str(folder)
        row.spec = spec.model_dump(mode="json")
        db.flush()
        return row.id


def sync_catalog(tasks_dir: Path | None = None) -> list[str]:
    """Import every valid task under `tasks_dir` (default: the settings'); return their slugs."""
    root = Path(tasks_dir or get_settings().tasks_dir)
    slugs = []
    for spec in list_tasks(root):
        _upsert(spec)
        slugs.append(spec.slug)
    return slugs


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
        spec = load_task(folder)
    except TaskInvalid as exc:
        log.warning("task %s is invalid: %s", slug, exc)
        return None
    _upsert(spec)
    with session_scope() as db:
        return db.scalar(select(Task).where(Task.slug == slug))


def task_spec(row: Task) -> TaskSpec:
    """The task's spec as loaded from its folder (so paths resolve), falling back to the stored JSON."""
    try:
        return load_task(row.path)
    except TaskInvalid:
        spec = TaskSpec.model_validate(row.spec)
        spec._folder = Path(row.path)
        return spec
