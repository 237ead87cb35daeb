"""`worksample user …`: staff accounts (people log in with a password they choose through a one-time link)."""

from __future__ import annotations

from enum import Enum

import typer

app = typer.Typer(no_args_is_help=True)


class RoleChoice(str, Enum):
    admin = "admin"
    reviewer = "reviewer"


@app.command("add")
def user_add(email: str = typer.Argument(..., help="the staff member's email (their login)"),
             role: RoleChoice = typer.Option(..., help="admin (everything) or reviewer (catalog, invitations, "
                                                        "submissions, reviews)"),
             name: str = typer.Option(None, help="display name (default: the email's local part)")) -> None:
    """Create a staff user and print their one-time password-setup link (valid 72 h)."""
    from worksample.accounts import add_user
    from worksample.db import migrate
    from worksample.db.models import Role

    from worksample import audit

    migrate()
    link = add_user(email, Role(role.value), name)
    audit.record("user.create", actor="cli", target=link.email, detail={"role": role.value})
    typer.echo(f"user {link.email} ({role.value}) created; setup link (one-time, until "
               f"{link.expires_at:%Y-%m-%d %H:%M} UTC):")
    typer.echo(link.url())


@app.command("setup-link")
def user_setup_link(email: str = typer.Argument(..., help="an existing staff member's email")) -> None:
    """Print a new one-time setup link for a user (a forgotten password); older links stop working."""
    from worksample.accounts import new_setup_link
    from worksample.db import migrate

    from worksample import audit

    migrate()
    link = new_setup_link(email)
    audit.record("user.update", actor="cli", target=link.email, detail={"setup_link": "new"})
    typer.echo(f"setup link for {link.email} (one-time, until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
    typer.echo(link.url())
