"""Edit a task folder's task.yaml and read what `task validate` says of it (the catalog tests' two steps)."""

from __future__ import annotations

from pathlib import Path

import yaml


def set_grading(folder: Path, **values) -> None:
    """Set keys of the `grading:` block of `folder`'s task.yaml."""
    data = yaml.safe_load((folder / "task.yaml").read_text())
    data["grading"].update(values)
    (folder / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def problems(folder: Path) -> list[str]:
    """`task validate`'s problems with `folder`, one `file: field: message` string each."""
    from worksample.catalog import validate_task

    return [str(p) for p in validate_task(folder)]
