"""Invitation e-mail through SMTP (stdlib smtplib), when WORKSAMPLE_SMTP_URL is set.

URL forms: `smtp://host[:port]` (default port 25), `smtp://host:587?starttls=1`,
`smtps://host[:465]` (TLS from the start); `user:password@` before the host logs
in. A batch of invitations goes through one SMTP session. Without the setting
nothing is sent and the pages show the links to copy.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from worksample.config import get_settings
from worksample.errors import WorksampleError

log = logging.getLogger(__name__)
SMTP_TIMEOUT_S = 20


class MailError(WorksampleError):
    """The SMTP server could not be used; the message says why (the invitations exist regardless)."""


@dataclass(frozen=True)
class Invite:
    """One invitation e-mail to send."""

    name: str
    email: str
    task_title: str
    url: str
    expires: str  # a date, as text


def configured() -> bool:
    """True when WORKSAMPLE_SMTP_URL is set."""
    return bool(get_settings().smtp_url)


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("WORKSAMPLE_SMTP_URL: expected smtp://host[:port] or smtps://host[:port]")
    query = parse_qs(parts.query)
    try:
        if parts.scheme == "smtps":
            conn = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=SMTP_TIMEOUT_S,
                                    context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=SMTP_TIMEOUT_S)
            if query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
                conn.starttls(context=ssl.create_default_context())
        if parts.username:
            conn.login(unquote(parts.username), unquote(parts.password or ""))
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP server {parts.hostname}:{parts.port or ''} refused or unreachable: {exc}") from None
    return conn


def message(invite: Invite) -> EmailMessage:
    """The e-mail for one invitation (plain text: the link is the whole point)."""
    settings = get_settings()
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = formataddr((invite.name, invite.email))
    msg["Subject"] = f"Your work sample: {invite.task_title}"
    msg["Message-ID"] = make_msgid(domain="worksample")
    msg.set_content(
        f"Hello {invite.name},\n\n"
        f"You are invited to a work sample: {invite.task_title}.\n\n"
        f"Open this link when you are ready; the clock starts only when you press Start:\n\n"
        f"    {invite.url}\n\n"
        f"The link works until {invite.expires}. It is personal: please do not share it.\n")
    return msg


def send_invites(invites: list[Invite]) -> list[str]:
    """Mail each invitation over one SMTP session; the addresses that failed (empty: all sent).

    Raises MailError when the server cannot be reached at all. Does nothing without WORKSAMPLE_SMTP_URL.
    """
    url = get_settings().smtp_url
    if not url or not invites:
        return []
    failed = []
    conn = _connect(url)
    try:
        for invite in invites:
            try:
                conn.send_message(message(invite))
            except smtplib.SMTPException as exc:  # one refused recipient must not stop the batch
                log.warning("invitation mail to %s refused: %s", invite.email, exc)
                failed.append(invite.email)
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return failed


def mail_invitation(invitation_id: str, url: str) -> bool:
    """Mail one new invitation's link (when SMTP is set up); True if sent. Never raises: the invitation
    exists either way, and its link is shown to whoever created it."""
    if not configured():
        return False
    from worksample.db import Invitation, session_scope

    try:
        with session_scope() as db:
            inv = db.get(Invitation, invitation_id)
            if inv is None:
                return False
            invite = Invite(inv.candidate_name, inv.candidate_email, inv.task.title, url,
                            f"{inv.expires_at:%Y-%m-%d}" if inv.expires_at else "further notice")
        return not send_invites([invite])
    except Exception as exc:  # SMTP down, refused, database away: logged; the link is shown instead
        log.warning("invitation %s: mail not sent: %s: %s", invitation_id, type(exc).__name__, exc)
        return False
