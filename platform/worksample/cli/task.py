"""`worksample task` commands: validate, list, schema, new."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from worksample.catalog import new_task, task_folders, task_schema, validate_task
from worksample.catalog.loader import load_task
from worksample.catalog.scaffold import TODO_LIST
from worksample.catalog.spec import format_duration
from worksample.config import get_settings

app = typer.Typer(no_args_is_help=True)


def _root(root: Path | None) -> Path:
    return root if root is not None else get_settings().tasks_dir


@app.command()
def validate(paths: list[Path] = typer.Argument(..., help="task folders or task.yaml files")) -> None:
    """Validate task folders: exit 0, or 1 with `file: field: message` lines."""
    failed = 0
    for path in paths:
        problems = validate_task(path)
        for problem in problems:
            typer.echo(str(problem))
        if problems:
            failed += 1
        else:
            typer.echo(f"{path}: ok", err=True)
    if failed:
        typer.echo(f"{failed} of {len(paths)} task(s) invalid", err=True)
        # sys.exit, not typer.Exit: the root CLI runs click with standalone_mode=False,
        # which turns typer.Exit into a return value and the exit status into 0.
        sys.exit(1)


@app.command("list")
def list_(root: Path = typer.Option(None, "--root", help="tasks folder (default: the configured tasks dir)")) -> None:
    """List the tasks in the catalog; invalid folders are flagged."""
    for folder in task_folders(_root(root)):
        problems = validate_task(folder)
        if problems:
            typer.echo(f"{folder.name}\tINVALID ({len(problems)} problem(s); run `worksample task validate {folder}`)")
            continue
        task = load_task(folder)
        typer.echo(f"{task.slug}\t{task.track.value}\t{format_duration(task.time_limit)}\t{task.title}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of task.yaml."""
    typer.echo(json.dumps(task_schema(), indent=2))


@app.command()
def new(
    slug: str = typer.Argument(..., help="folder name and slug, e.g. churn-model-audit"),
    root: Path = typer.Option(None, "--root", help="tasks folder (default: the configured tasks dir)"),
) -> None:
    """Scaffold a task folder that validates, and say what to fill in."""
    folder = new_task(_root(root), slug)
    typer.echo(f"created {folder}; fill in:")
    for item in TODO_LIST:
        typer.echo(f"  - {item}")
    typer.echo(f"then run: worksample task validate {folder}")


# `task test` belongs to grading (it grades the reference and baselines through the pipeline).
from worksample.cli.grading import task_test as _task_test  # noqa: E402

app.command("test")(_task_test)
