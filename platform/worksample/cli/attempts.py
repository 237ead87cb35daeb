"""Commands for candidate attempts: `worksample invite` and `worksample attempt extend`."""

from __future__ import annotations

import typer

attempt_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `invite` and the `attempt` group to the root app."""
    app.command("invite")(invite)
    app.add_typer(attempt_app, name="attempt", help="Candidate attempts: extend a deadline")


def invite(slug: str = typer.Argument(..., help="task slug, e.g. support-ticket-triage"),
           name: str = typer.Option(..., help="candidate's name"),
           email: str = typer.Option(..., help="candidate's email")) -> None:
    """Invite a candidate to a task and print the invite URL (shown once)."""
    from worksample.db import migrate
    from worksample.workspace.invitations import create_invitation

    migrate()
    typer.echo(create_invitation(slug, name, email).url)


@attempt_app.command("extend")
def extend(attempt_id: str = typer.Argument(..., help="attempt id"),
           minutes: int = typer.Option(..., help="minutes to add (1-240)")) -> None:
    """Move a running attempt's deadline later; refused once it has passed."""
    from worksample.db import migrate
    from worksample.workspace.deadlines import extend_attempt

    migrate()
    deadline = extend_attempt(attempt_id, minutes)
    typer.echo(f"attempt {attempt_id}: deadline {deadline.isoformat()}")
