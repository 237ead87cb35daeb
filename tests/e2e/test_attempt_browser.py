"""The candidate's path in headless Chromium: invite → Start → JupyterLab → run the mock cell → Submit.

Debian's chromium driven by Playwright's Python package (`executable_path`); a
screenshot is saved under var/ when a test fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

import e2e_browser

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def browser_page(name: str):
    """A fresh headless Chromium page; on an exception, a screenshot at var/e2e-<name>.png."""
    return e2e_browser.browser_page(REPO / "var" / f"e2e-{name}.png")


def start_from_invite(page, platform, slug: str, admin: str | None = None) -> None:
    """Open the invite link, check the brief, press Start, land in the workspace."""
    invitation = platform.invite(admin or platform.admin_token(), slug)
    page.goto(invitation["url"])
    expect(page.locator("#time-limit")).to_contain_text("minutes")
    expect(page.locator(".brief")).to_be_visible()
    page.click("#start")
    page.wait_for_url(re.compile(r"/w/[0-9a-f]+/$"), timeout=120_000)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"\d\d:\d\d:\d\d"))


def accept_kernel_dialog(lab) -> None:
    """JupyterLab may ask which kernel to start for the notebook: take the one it proposes."""
    try:
        lab.locator(".jp-Dialog .jp-mod-accept").click(timeout=5_000)
    except PlaywrightTimeout:
        pass  # no dialog this time: the notebook's kernelspec matched


def test_invite_to_submit(make_platform):
    platform, slug = make_platform()
    admin = platform.admin_token()
    with browser_page("invite-to-submit") as page:
        start_from_invite(page, platform, slug, admin)
        # Submit is offered once the workspace answers (disabled while the Start waits in line or boots).
        expect(page.locator("#submit")).to_be_enabled(timeout=120_000)
        lab = page.frame_locator("#lab")
        lab.get_by_text("probe.ipynb", exact=True).dblclick(timeout=90_000)
        cell = lab.locator(".jp-Notebook .jp-CodeCell").first
        expect(cell).to_be_visible(timeout=60_000)
        accept_kernel_dialog(lab)
        expect(lab.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("MOCK-OK atlas-mini True", timeout=90_000)
        # The run was recorded for reviewers from the browser's own kernel channel (whatever its encoding).
        attempt_id = page.url.rstrip("/").rsplit("/", 1)[1]
        events = httpx.get(f"{platform.url}/api/v1/attempts/{attempt_id}/activity",
                           headers={"Authorization": f"Bearer {admin}"}).json()["events"]
        runs = [e for e in events if e["kind"] == "cell_executed"]
        assert runs and runs[-1]["cell_id"] == "call-mock" and runs[-1]["code_bytes"] > 100, events
        page.click("#submit")
        page.click("#confirm-yes")
        expect(page.locator("#submitted")).to_contain_text("Your work was submitted", timeout=60_000)
        expect(page.locator("#receipt")).to_have_text(re.compile(r"[0-9a-f]{32}"))


def test_deadline_submits_for_the_candidate(make_platform):
    platform, slug = make_platform(time_limit="1m")
    with browser_page("deadline") as page:
        start_from_invite(page, platform, slug)
        lab = page.frame_locator("#lab")
        expect(lab.get_by_text("probe.ipynb", exact=True)).to_be_visible(timeout=90_000)
        expect(page.locator("#warning")).to_contain_text("2 minutes left", timeout=10_000)
        expect(page.locator("#submitted")).to_contain_text("when the time was up", timeout=100_000)
