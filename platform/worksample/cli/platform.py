"""Top-level commands: up, serve, worker, db, token."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

db_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)


class RoleChoice(str, Enum):
    admin = "admin"
    reviewer = "reviewer"


def register(app: typer.Typer) -> None:
    """Add the top-level commands to the root app."""
    app.command()(up)
    app.command()(serve)
    app.command()(worker)
    app.add_typer(db_app, name="db", help="Database migrations")
    app.add_typer(token_app, name="token", help="Bearer tokens for scripts and integrations")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (idempotent)."""
    from worksample.db import migrate

    migrate()
    typer.echo("database is up to date")


@token_app.command("create")
def token_create(role: RoleChoice = typer.Option(..., help="admin or reviewer"),
                 name: Optional[str] = typer.Option(None, help="user name (default: the role's name)")) -> None:
    """Print a new bearer token for a user with ROLE (the user is created if new)."""
    from worksample.accounts import create_token
    from worksample.db import migrate
    from worksample.db.models import Role
    from worksample.errors import Conflict

    migrate()
    name = name or role.value  # a default of "admin" made `--role reviewer` collide with the admin user
    try:
        typer.echo(create_token(Role(role.value), name))
        from worksample import audit  # H6: audit log (the CLI has no staff login: the actor is "cli")

        audit.record("token.create", actor="cli", target=name, detail={"role": role.value})
    except ValueError as exc:  # the user exists with another role
        raise Conflict(f"--name {name}: {exc}; choose another --name") from exc


def serve(host: str = typer.Option("127.0.0.1", help="interface to listen on"), port: int = typer.Option(8000, help="TCP port")) -> None:
    """Run the API and web UI (stateless; run several behind a proxy to scale)."""
    import uvicorn

    from worksample.db import migrate
    from worksample.web import create_app

    migrate()
    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=False)


def worker(burst: bool = typer.Option(False, help="exit when the queues are empty"),
           reap_every: float = typer.Option(30.0, help="seconds between sandbox reaper passes (0: no reaper)")) -> None:
    """Run a job worker (grading, deadlines) plus a periodic sandbox reaper."""
    from worksample.jobs.worker import run_worker

    run_worker(burst=burst, reap_every=reap_every)


def up(host: str = typer.Option("127.0.0.1", help="interface the API listens on"),
       port: int = typer.Option(8000, help="API port"),
       workers: int = typer.Option(0, min=0, help="grading workers (0: one per core)")) -> None:
    """Run everything on this machine: API, workers, and Redis when REDIS_URL is unset."""
    from worksample.up import run_up

    run_up(host=host, port=port, workers=workers or None)
