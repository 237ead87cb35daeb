"""`worksample mockllm`: run or validate the mock LLM API (same functions as `python -m worksample.mockllm`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(no_args_is_help=True, help="Run or validate the mock LLM API")


@app.command("serve")
def serve(
    profile: Path = typer.Option(..., "--profile", help="Profile YAML (models, limits, budget, faults, incidents)"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
    port: int = typer.Option(..., "--port", help="Port to listen on"),
    log: Path = typer.Option(..., "--log", help="Call log (calls.jsonl); bodies.jsonl goes beside it"),
    seed: Optional[int] = typer.Option(None, "--seed", help="Overrides the profile's seed"),
    oracle: Optional[Path] = typer.Option(None, "--oracle", help="A task's oracle.py; default: built-in oracle"),
    api_key: Optional[list[str]] = typer.Option(None, "--api-key", help="Accepted key (repeatable); none: any non-empty key"),
) -> None:
    """Serve the mock LLM API until stopped; exit 1 on a bad profile or oracle."""
    from worksample.mockllm import runner

    _run(lambda: runner.serve(profile, host=host, port=port, log_path=log, seed=seed,
                              oracle_path=oracle, api_keys=tuple(api_key or ())))


@app.command("validate")
def validate(profile: Path = typer.Argument(..., help="Profile YAML")) -> None:
    """Validate a profile: `ok`, or `FILE: key.path: message` and exit 1."""
    from worksample.mockllm import runner

    loaded = _run(lambda: runner.validate(profile))
    typer.echo(f"{profile}: ok ({len(loaded.models)} models, {len(loaded.faults)} faults, {len(loaded.incidents)} incidents)")


def _run(action):
    from worksample.mockllm.oracle import OracleLoadError
    from worksample.mockllm.profile import ProfileError

    try:
        return action()
    except (ProfileError, OracleLoadError) as exc:
        print(str(exc), file=sys.stderr)
        # sys.exit rather than typer.Exit: the root CLI runs click with
        # standalone_mode=False, which turns typer.Exit into a return value.
        sys.exit(1)
    except OSError as exc:
        print(f"mockllm: {exc}", file=sys.stderr)
        sys.exit(1)
