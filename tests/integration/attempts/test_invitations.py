"""Invitations: the CLI and API make links; revoked, expired, used-up and unknown links get clear pages."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from attempts_harness import VENV_BIN

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]


def test_invite_links_and_their_pages(make_platform):
    platform, slug = make_platform(time_limit="45m")
    admin = platform.admin_token()
    readme = platform.tasks_dir / slug / "README.md"
    readme.write_text(readme.read_text() + "\n<script>alert('brief')</script>\n")
    out = subprocess.run([str(VENV_BIN / "worksample"), "invite", slug, "--name", "Cy", "--email", "cy@example.com"],
                         env=platform.env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    url = out.stdout.split("url: ", 1)[1].strip()  # `invite` prints the invitation id, then the url
    assert url.startswith(f"{platform.url}/c/") and len(url.rsplit("/", 1)[1]) >= 32  # ≥ 192 bits, base64url

    landing = httpx.get(url)
    assert landing.status_code == 200
    assert "45 minutes" in landing.text and 'id="start"' in landing.text and "The brief" in landing.text
    csp = landing.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    brief = landing.text.split('class="brief"')[1]
    assert "<script" not in brief and "&lt;script&gt;alert" in brief  # raw HTML in the brief is escaped

    # Bad input is refused with a message naming the field; unknown tasks are 404.
    auth = {"Authorization": f"Bearer {admin}"}
    bad = httpx.post(f"{platform.url}/api/v1/invitations", headers=auth,
                     json={"task": slug, "candidate": {"name": "D", "email": "not-an-email"}})
    assert bad.status_code == 422 and "candidate.email" in bad.text
    assert httpx.post(f"{platform.url}/api/v1/invitations", headers=auth,
                      json={"task": "no-such-task", "candidate": {"name": "D", "email": "d@e.f"}}).status_code == 404
    assert httpx.post(f"{platform.url}/api/v1/invitations",
                      json={"task": slug, "candidate": {"name": "D", "email": "d@e.f"}}).status_code == 401

    revoked = platform.invite(admin, slug)
    assert httpx.post(f"{platform.url}/api/v1/invitations/{revoked['id']}/revoke", headers=auth).status_code == 200
    page = httpx.get(revoked["url"])
    assert page.status_code == 410 and "withdrawn" in page.text
    assert httpx.post(f"{platform.url}/api/v1/attempts/{revoked['token']}/start").status_code == 410

    expired = platform.invite(admin, slug)
    from worksample.db import Invitation, session_scope
    from worksample.db.models import utcnow

    with session_scope() as db:
        db.execute(update(Invitation).where(Invitation.id == expired["id"]).values(expires_at=utcnow() - timedelta(hours=1)))
    page = httpx.get(expired["url"])
    assert page.status_code == 410 and "expired" in page.text

    used = platform.invite(admin, slug)
    started, cookie = platform.start_attempt(used["token"])
    with platform.candidate(cookie) as client:
        assert client.post(f"/api/v1/attempts/{started['attempt_id']}/submit").status_code == 202
    page = httpx.get(used["url"])
    assert page.status_code == 410 and "submitted" in page.text
    assert httpx.post(f"{platform.url}/api/v1/attempts/{used['token']}/start").status_code == 410

    unknown = httpx.get(f"{platform.url}/c/not-a-real-token")
    assert unknown.status_code == 404 and "not valid" in unknown.text and "Traceback" not in unknown.text
