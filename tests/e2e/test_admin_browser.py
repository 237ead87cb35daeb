"""The admin console in headless Chromium: an admin uploads a CSV of three candidates, revokes one,
extends one's running attempt, and sees the operations page; a reviewer gets 403 there.

Screenshots of every console page are kept under var/e2e-admin/ for people to look at.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

import e2e_browser
from attempts_harness import VENV_BIN

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(400)]
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "var" / "e2e-admin"
PASSWORD = "correct horse battery staple"


def browser_page(name: str):
    """A fresh headless Chromium page; on an exception, a screenshot at var/e2e-admin/failed-<name>.png."""
    return e2e_browser.browser_page(SHOTS / f"failed-{name}.png")


def staff_user(platform, email: str, role: str) -> str:
    """Create a staff user with the CLI; their one-time setup link."""
    out = subprocess.run([str(VENV_BIN / "worksample"), "user", "add", email, "--role", role],
                         env=platform.env(), capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip().splitlines()[-1]


def log_in(page, platform, email: str, role: str) -> None:
    """Set the user's password through the setup link, then log in through /login."""
    page.goto(staff_user(platform, email, role))
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("#set-password")
    page.goto(platform.url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(r"/$"))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def row(page, name: str):
    return page.locator("#invitations tr", has_text=name)


def test_admin_uploads_revokes_extends_and_sees_operations(make_platform, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE", "1")
    platform, slug = make_platform(time_limit="30m")
    csv = tmp_path / "candidates.csv"
    csv.write_text("name,email\nAda Lovelace,ada@example.com\nBo Li,bo@example.com\nCy Young,cy@example.com\n")
    with browser_page("admin-console") as page:
        log_in(page, platform, "admin@example.com", "admin")
        page.goto(platform.url + "/invitations")
        page.select_option("#invite-csv select[name=task]", slug)
        page.set_input_files("#invite-csv input[type=file]", str(csv))
        page.click("#invite-csv button[type=submit]")
        expect(page.locator("#notice")).to_contain_text("Invited 3 candidates")
        links = page.locator("#created code").all_inner_texts()
        assert len(links) == 3 and all(link.startswith(platform.url + "/c/") for link in links)
        shot(page, "invitations-uploaded")

        # A bad upload names the line and creates nothing.
        csv.write_text("Dee,not-an-email\n")
        page.set_input_files("#invite-csv input[type=file]", str(csv))
        page.select_option("#invite-csv select[name=task]", slug)
        page.click("#invite-csv button[type=submit]")
        expect(page.locator("#problems")).to_contain_text("line 1: email: 'not-an-email' is not an email address")
        assert page.locator("#invitations tr[data-invitation]").count() == 3
        shot(page, "invitations-refused")

        # Bo starts; the admin extends Bo's attempt and revokes Cy's invitation.
        start = httpx.post(f"{platform.url}/api/v1/attempts/{links[1].rsplit('/', 1)[1]}/start", timeout=180)
        assert start.status_code == 200, start.text
        page.goto(platform.url + "/invitations")
        expect(row(page, "Bo Li").locator(".pill")).to_have_text("started")
        before = row(page, "Bo Li").locator("td").nth(5).inner_text()
        row(page, "Bo Li").locator("input[name=minutes]").fill("60")
        row(page, "Bo Li").locator("button.extend").click()
        expect(page.locator("#notice")).to_contain_text("Extended by 60 minutes")
        assert row(page, "Bo Li").locator("td").nth(5).inner_text() != before
        row(page, "Cy Young").locator("button.revoke").click()
        expect(page.locator("#notice")).to_contain_text("Invitation revoked")
        expect(row(page, "Cy Young").locator(".pill")).to_have_text("revoked")
        assert httpx.get(links[2]).status_code == 410
        shot(page, "invitations-actions")

        page.goto(platform.url + "/admin/operations")
        expect(page.locator("h1")).to_have_text("Operations")
        expect(page.locator("#pods")).to_contain_text(start.json()["attempt_id"])
        shot(page, "operations")
        for name in ("tasks", "admin/audit"):
            page.goto(f"{platform.url}/{name}")
            expect(page.locator("h1")).to_be_visible()
            shot(page, name.replace("/", "-"))

        # Webhooks: the metadata address is refused; a loopback one is allowed here (the setting is on).
        page.goto(platform.url + "/admin/webhooks")
        page.fill("#add-webhook input[name=url]", "http://169.254.169.254/latest/meta-data/")
        page.click("#add-webhook button[type=submit]")
        expect(page.locator("#problem")).to_contain_text("link-local")
        page.fill("#add-webhook input[name=url]", "http://127.0.0.1:9/ats")
        page.click("#add-webhook button[type=submit]")
        expect(page.locator("#secret")).to_contain_text("whsec_")
        shot(page, "admin-webhooks")
        platform.invite(platform.admin_token(), slug, name="Eve Hook")  # an invitation.created to deliver
        page.click("#webhooks a >> nth=0")
        expect(page.locator("#deliveries")).to_contain_text("invitation.created")
        shot(page, "admin-webhook-deliveries")

    with browser_page("reviewer-403") as page:
        log_in(page, platform, "rita@example.com", "reviewer")
        response = page.goto(platform.url + "/admin/operations")
        assert response.status == 403
        page.goto(platform.url + "/invitations")
        expect(page.locator("#invitations")).to_contain_text("Candidate ")  # blind review: pseudonyms
        assert "Ada Lovelace" not in page.content()
        shot(page, "invitations-reviewer")
