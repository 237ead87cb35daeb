"""The admin console over HTTP against a real `worksample serve` (and a worker, Redis, Docker, SMTP on loopback).

Bulk invitations (201 all / 422 none), their e-mail through a real SMTP server,
their webhook events signed and delivered, the list with stages, a new link
that retires the old one, revoking a running attempt, extending an ended one
(409), roles, and /metrics.
"""

from __future__ import annotations

import httpx
import pytest

from admin_harness import wait_for
from receivers import Receiver

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(300)]


def test_bulk_invitations_mail_webhooks_relink_and_roles(make_platform, workers, smtp_server, monkeypatch):
    smtp_url, mails = smtp_server
    monkeypatch.setenv("WORKSAMPLE_SMTP_URL", smtp_url)
    monkeypatch.setenv("WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE", "1")
    platform, slug = make_platform(time_limit="30m")
    workers.start(**platform.env())
    admin = {"Authorization": f"Bearer {platform.admin_token()}"}
    api = httpx.Client(base_url=platform.url, timeout=60)
    receiver = Receiver("ok").start()
    try:
        hook = api.post("/api/v1/webhooks", headers=admin, json={"url": receiver.url,
                                                                 "events": ["invitation.created", "attempt.started"]})
        assert hook.status_code == 201 and hook.json()["secret"].startswith("whsec_")
        receiver.secret = hook.json()["secret"]

        bad = api.post(f"/api/v1/invitations/bulk?task={slug}", headers={**admin, "content-type": "text/csv"},
                       content=b"name,email\nAda,ada@example.com\nBo,\nCy,cy@example.com,no-such-task\n")
        assert bad.status_code == 422
        assert bad.json()["errors"] == ["line 3: email: missing", "line 4: task: 'no-such-task' is not in the catalog"]
        assert api.get("/api/v1/invitations", headers=admin).json()["invitations"] == []  # nothing created

        csv = "name,email\nAda Lovelace,ada@example.com\nBo Li,bo@example.com\nCy Young,cy@example.com\n"
        made = api.post(f"/api/v1/invitations/bulk?task={slug}&expires_in_days=3",
                        headers={**admin, "content-type": "text/csv"}, content=csv.encode())
        assert made.status_code == 201, made.text
        invitations = made.json()["invitations"]
        assert [i["candidate"]["name"] for i in invitations] == ["Ada Lovelace", "Bo Li", "Cy Young"]
        assert all(i["mailed"] for i in invitations)

        # The mail: one per candidate, to them, with their own link.
        assert sorted(rcpt[0] for rcpt, _msg in mails) == ["ada@example.com", "bo@example.com", "cy@example.com"]
        assert all(m["To"].addresses[0].display_name for _rcpt, m in mails)
        for inv in invitations:
            (_rcpt, msg), = [m for m in mails if m[0] == [inv["candidate"]["email"]]]
            assert inv["url"] in msg.get_content() and "Your work sample" in msg["Subject"]

        # The webhook: three signed invitation.created events.
        wait_for(lambda: len(receiver.requests) >= 3, 60, what="three invitation.created deliveries")
        assert all(r.verified for r in receiver.requests)

        # One at a time through the API: mailed and announced too.
        dee = platform.invite(admin["Authorization"][7:], slug, name="Dee Ray")
        assert any(dee["url"] in msg.get_content() for _rcpt, msg in mails)
        wait_for(lambda: len(receiver.requests) >= 4, 60, what="the fourth invitation.created")

        listed = api.get(f"/api/v1/invitations?task={slug}", headers=admin).json()["invitations"]
        assert {i["stage"] for i in listed} == {"invited"} and len(listed) == 4
        assert all(i["invited_at"] and i["expires_at"] for i in listed)

        # A new link retires the old one.
        first = invitations[0]
        fresh = api.post(f"/api/v1/invitations/{first['id']}/relink", headers=admin)
        assert fresh.status_code == 200 and fresh.json()["url"] != first["url"]
        assert httpx.get(first["url"]).status_code == 404
        assert httpx.get(fresh.json()["url"]).status_code == 200

        # Start one attempt (attempt.started goes out), revoke it, then extending it is a 409 with the reason.
        body, _cookie = platform.start_attempt(fresh.json()["token"])
        wait_for(lambda: any(b'"attempt.started"' in r.body for r in receiver.requests), 60,
                 what="attempt.started")
        revoked = api.post(f"/api/v1/invitations/{first['id']}/revoke", headers=admin)
        assert revoked.status_code == 200, revoked.text
        ended = api.post(f"/api/v1/attempts/{body['attempt_id']}/extend", headers=admin, json={"minutes": 60})
        assert ended.status_code == 409 and "ended" in ended.json()["detail"]

        # Reviewers: no operations, no webhooks.
        from attempts_harness import VENV_BIN
        import subprocess

        out = subprocess.run([str(VENV_BIN / "worksample"), "token", "create", "--role", "reviewer", "--name", "rev"],
                             env=platform.env(), capture_output=True, text=True, timeout=60, check=True)
        reviewer = {"Authorization": f"Bearer {out.stdout.strip().splitlines()[-1]}"}
        assert api.get("/admin/operations", headers=reviewer).status_code == 403
        assert api.get("/api/v1/webhooks", headers=reviewer).status_code == 403
        assert api.get("/api/v1/invitations", headers=reviewer).status_code == 200

        metrics = api.get("/metrics")
        assert metrics.status_code == 200 and "worksample_attempts_started_total 1.0" in metrics.text
        audit_page = api.get("/admin/audit", headers=admin)
        assert audit_page.status_code == 200
        for action in ("invitation.bulk", "invitation.create", "invitation.relink", "invitation.revoke",
                       "webhook.create", "token.create"):
            assert f">{action}<" in audit_page.text, action
    finally:
        receiver.stop()
        api.close()
