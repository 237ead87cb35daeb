"""`worksample task` commands: validate, list, schema, new, test (calibration: worksample.grading.calibration)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

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


@app.command("test")
def test(
    path: Path = typer.Argument(..., help="task folder"),
    seeds: int = typer.Option(1, "--seeds", min=1, max=20, help="grade every candidate under mock seeds 0..N-1"),
    record: bool = typer.Option(False, "--record", help="store the result for the /tasks page"),
    workers: int = typer.Option(2, "--workers", min=1, max=16, help="gradings run at once"),
    only: Optional[list[str]] = typer.Option(None, "--only", help="grade the reference and only these baselines"),
) -> None:
    """Grade solution/ and every baselines/* under N seeds through the real pipeline; print a table with margins.

    Exit 1 unless the reference passes under every seed and every baseline is
    not passed under every seed, fails the checks its baseline.yaml names and
    scores below the reference.
    """
    from worksample.grading import calibration, local

    folder = local.task_folder(str(path))
    names = [c.name for c in local.solutions(folder) if not only or c.name in only or c.name == "solution"]
    typer.echo(f"grading {len(names)} candidate(s) x {seeds} seed(s), {workers} at a time: {', '.join(names)} …", err=True)
    cal = calibration.calibrate(folder, seeds=seeds, workers=workers, only=only)
    typer.echo(calibration.format_table(cal))
    for problem in cal.problems:
        typer.echo(f"FAIL {problem}")
    if record:
        typer.echo(f"recorded calibration {calibration.record(cal)}", err=True)
    typer.echo(f"{len(cal.graded)} gradings in {cal.duration_s:.0f}s", err=True)
    if cal.problems:
        sys.exit(1)
    typer.echo("OK: the reference passes under every seed; every baseline is not passed and fails the checks it names")
