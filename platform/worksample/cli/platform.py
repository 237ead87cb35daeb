"""Top-level commands: up, serve, worker."""

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level commands to the root app."""
