"""Commands for candidate attempts: `worksample invite [create|list|revoke|extend]` and `worksample attempt extend`.

`worksample invite SLUG --name N --email E` (DESIGN §8) still works: a first
argument that is not a sub-command means `invite create`.
"""

from __future__ import annotations

import json
from typing import Optional

import typer
from typer.core import TyperGroup


class _CreateByDefault(TyperGroup):
    """`invite SLUG …` is `invite create SLUG …`; `invite list` etc. are sub-commands."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["create", *args]
        return super().parse_args(ctx, args)


invite_app = typer.Typer(cls=_CreateByDefault, no_args_is_help=True)
attempt_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `invite` and `attempt` groups to the root app."""
    app.add_typer(invite_app, name="invite",
                  help="Invite candidates (`invite SLUG --name N --email E`), list, revoke, extend")
    app.add_typer(attempt_app, name="attempt", help="Candidate attempts: extend a deadline")


@invite_app.command("create")
def invite(slug: str = typer.Argument(..., help="task slug, e.g. support-ticket-triage"),
           name: str = typer.Option(..., help="candidate's name"),
           email: str = typer.Option(..., help="candidate's email"),
           as_json: bool = typer.Option(False, "--json", help='print {"id", "url"}')) -> None:
    """Invite a candidate to a task; print the invitation's id (to revoke or extend it) and URL (shown once)."""
    from worksample.db import migrate
    from worksample.workspace.invitations import create_invitation

    migrate()
    made = create_invitation(slug, name, email)
    typer.echo(json.dumps({"id": made.id, "url": made.url}) if as_json else f"invitation: {made.id}\nurl: {made.url}")


@invite_app.command("list")
def invite_list(task: Optional[str] = typer.Option(None, help="only this task's invitations"),
                as_json: bool = typer.Option(False, "--json", help="one JSON object per line")) -> None:
    """List invitations, newest first: id, task, candidate, state, attempt and its deadline."""
    from worksample.db import migrate

    migrate()
    rows = list_invitations(task)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    typer.echo(f"{'id':<32}  {'task':<24}  {'state':<9}  {'deadline':<20}  candidate")
    for row in rows:
        deadline = (row["deadline"] or "")[:19].replace("T", " ")
        typer.echo(f"{row['id']:<32}  {row['task']:<24}  {row['state']:<9}  {deadline:<20}  "
                   f"{row['candidate']} <{row['email']}>")


@invite_app.command("revoke")
def invite_revoke(invitation_id: str = typer.Argument(..., help="invitation id (`worksample invite list`)")) -> None:
    """Revoke an invitation: its link stops working, and a running attempt stops (work kept, no submission)."""
    from worksample.db import migrate
    from worksample.workspace.deadlines import revoke_invitation

    migrate()
    result = revoke_invitation(invitation_id)
    stopped = f"; attempt {result['attempt_id']} {result['attempt_status']}" if result.get("attempt_id") else ""
    typer.echo(f"invitation {invitation_id}: revoked{stopped}")


@invite_app.command("extend")
def invite_extend(invitation_id: str = typer.Argument(..., help="invitation id (`worksample invite list`)"),
                  minutes: int = typer.Option(..., help="minutes to add to the running attempt (1-240)")) -> None:
    """Move the deadline of the invitation's running attempt later; refused if it has not started or has ended."""
    from worksample.db import migrate
    from worksample.errors import Conflict, NotFound

    migrate()
    rows = [row for row in list_invitations(None) if row["id"] == invitation_id]
    if not rows:
        raise NotFound(f"no invitation {invitation_id} (see `worksample invite list`)")
    if not rows[0]["attempt_id"]:
        raise Conflict(f"invitation {invitation_id} has no attempt yet ({rows[0]['state']}): "
                       "the clock starts when the candidate presses Start")
    _extend(rows[0]["attempt_id"], minutes)


@attempt_app.command("extend")
def extend(attempt_id: str = typer.Argument(..., help="attempt id"),
           minutes: int = typer.Option(..., help="minutes to add (1-240)")) -> None:
    """Move a running attempt's deadline later; refused once it has passed."""
    from worksample.db import migrate

    migrate()
    _extend(attempt_id, minutes)


def _extend(attempt_id: str, minutes: int) -> None:
    from worksample.workspace.deadlines import extend_attempt

    deadline = extend_attempt(attempt_id, minutes)
    typer.echo(f"attempt {attempt_id}: deadline {deadline.isoformat()}")


def list_invitations(task: str | None) -> list[dict]:
    """Invitations (newest first) with their state and attempt, as plain dicts."""
    from sqlalchemy import select

    from worksample.db import Attempt, Invitation, session_scope
    from worksample.db.models import Task, utcnow

    query = (select(Invitation, Task.slug, Attempt).join(Task, Task.id == Invitation.task_id)
             .outerjoin(Attempt, Attempt.invitation_id == Invitation.id).order_by(Invitation.created_at.desc()))
    if task:
        query = query.where(Task.slug == task)
    rows = []
    with session_scope() as db:
        for inv, slug, attempt in db.execute(query):
            rows.append({"id": inv.id, "task": slug, "candidate": inv.candidate_name, "email": inv.candidate_email,
                         "state": _state(inv, attempt, utcnow()), "attempt_id": attempt.id if attempt else None,
                         "deadline": attempt.deadline.isoformat() if attempt and attempt.deadline else None})
    return rows


def _state(inv, attempt, now) -> str:
    if attempt is not None:
        return attempt.status.value  # running, submitted, expired, revoked …
    if inv.revoked_at is not None:
        return "revoked"
    expires = inv.expires_at
    if expires is not None and expires.tzinfo is None:  # SQLite hands back naive UTC datetimes
        from datetime import timezone

        expires = expires.replace(tzinfo=timezone.utc)
    return "expired" if expires is not None and expires <= now else "open"
