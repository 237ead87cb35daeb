"""The hiring team's path in headless Chromium, on a real `worksample up` (API, worker, Redis, Docker):

admin sets a password through the setup link `up` printed and logs in → invites a candidate → the
candidate starts and submits → grading runs → a second reviewer has reviewed by API → the reviewer
logs in, finds the submission in "waiting for your review" without knowing its id, sees no candidate
name, scores the rubric and recommends → then sees the other reviewer's scores → the admin decides →
the candidates table and the CSV show the decision. Screenshots of every open page go under var/ on
failure.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from attempts_harness import VENV_BIN
from e2e_browser import browser_pages
from playwright.sync_api import expect

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "a hiring team password"
CANDIDATE = "Ada Candidate"


def browsers(name: str):
    """A factory of fresh pages, each in its own browser context (its own cookies); on an exception,
    a full-page screenshot of each at var/e2e-<name>-<n>.png."""
    return browser_pages(lambda n: REPO / "var" / f"e2e-{name}-{n}.png")


def cli(platform, *args: str) -> str:
    """Run the worksample CLI against the platform's data dir; its stdout."""
    out = subprocess.run([str(VENV_BIN / "worksample"), *args], env=platform.env(), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def setup_link_from_up(platform, timeout: float = 60) -> str:
    """The one-time admin setup link `worksample up` printed on its first run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"admin setup link[^:]*: (\S+/account/setup/\S+)", platform.output())
        if found:
            return found.group(1)
        time.sleep(0.5)
    raise AssertionError("no admin setup link in `up` output:\n" + platform.output()[-3000:])


def set_password_and_login(page, link: str, email: str) -> None:
    """Choose a password through a setup link, then log in with it."""
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Choose a password")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("#set-password")
    expect(page.locator("#notice")).to_contain_text("Your password is set")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("h1").first).to_contain_text("Waiting for your review")


def start_workspace(page, invite_url: str, tries: int = 3) -> None:
    """Open the invite and press Start, as a candidate would again after "Could not start your workspace"
    (on a loaded machine JupyterLab may miss its start-up window; the clock keeps running meanwhile)."""
    for attempt in range(tries):
        page.goto(invite_url)
        page.click("#start", timeout=240_000)  # the POST returns once JupyterLab answers
        if re.search(r"/w/[0-9a-f]+/$", page.url):
            return
        expect(page.locator("h1")).to_contain_text("Could not start your workspace")
        if attempt + 1 == tries:
            raise AssertionError(f"the workspace did not start in {tries} tries")


def wait_graded(platform, token: str, submission_id: str, timeout: float = 900) -> dict:
    """Poll the submission until grading finished (graded or error); the final status."""
    deadline, got = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        got = httpx.get(f"{platform.url}/api/v1/submissions/{submission_id}",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        if got.get("status") in ("graded", "error") and got.get("report_versions"):
            return got
        time.sleep(3)
    raise AssertionError(f"submission not graded in {timeout}s: {got}\n{platform.output()[-3000:]}")


def test_hiring_team_flow(make_platform):
    platform, slug = make_platform(command="up")
    link = setup_link_from_up(platform)
    with browsers("review-flow") as new_page:
        # 1. The admin sets a password through the link `up` printed, logs in, invites a candidate.
        admin = new_page()
        set_password_and_login(admin, link, "admin@localhost")
        csrf = admin.locator("input[name=csrf_token]").first.get_attribute("value")
        made = admin.request.post(f"{platform.url}/api/v1/invitations", headers={"X-CSRF-Token": csrf},
                                  data={"task": slug, "candidate": {"name": CANDIDATE, "email": "ada@example.com"}})
        assert made.status == 201, made.text()
        invite_url = made.json()["url"]

        # 2. The candidate starts and submits.
        candidate = new_page()
        start_workspace(candidate, invite_url)
        candidate.click("#submit")
        candidate.click("#confirm-yes")
        expect(candidate.locator("#receipt")).to_have_text(re.compile(r"[0-9a-f]{32}"), timeout=120_000)
        submission_id = candidate.locator("#receipt").inner_text()

        # 3. Grading runs; a second reviewer (a script, by bearer token) reviews first.
        script = cli(platform, "token", "create", "--role", "reviewer", "--name", "rob@example.com").split()[-1]
        wait_graded(platform, script, submission_id)
        rubric = httpx.get(f"{platform.url}/api/v1/tasks", headers={"Authorization": f"Bearer {script}"}).json()
        items = next(t for t in rubric if t["slug"] == slug)["rubric"]
        assert items, "the task has a rubric"
        rob = httpx.put(f"{platform.url}/api/v1/submissions/{submission_id}/reviews/mine",
                        headers={"Authorization": f"Bearer {script}"},
                        json={"scores": {i["id"]: 1 for i in items}, "recommendation": "no", "comment": "Rob's view"})
        assert rob.status_code == 200, rob.text

        # 4. The reviewer logs in and finds the submission in the queue without knowing its id.
        setup = cli(platform, "user", "add", "rita@example.com", "--role", "reviewer", "--name", "Rita")
        reviewer = new_page()
        set_password_and_login(reviewer, setup.strip().splitlines()[-1], "rita@example.com")
        queue = reviewer.locator("#queue")
        expect(queue).to_contain_text(re.compile(r"Candidate [A-Z2-9]{4}"))
        assert CANDIDATE not in reviewer.content() and "ada@example.com" not in reviewer.content()
        queue.locator("a.review-link").first.click()
        expect(reviewer).to_have_url(f"{platform.url}/submissions/{submission_id}")
        assert CANDIDATE not in reviewer.content() and "ada@example.com" not in reviewer.content()
        pseudonym = reviewer.locator("#who").inner_text().split("·")[0].strip()
        assert re.fullmatch(r"Candidate [A-Z2-9]{4}", pseudonym)
        expect(reviewer.locator("#reviews-hidden")).to_contain_text("Hidden until you submit your own review")
        assert "Rob's view" not in reviewer.content()

        # 5. Scores the rubric, recommends, then sees the other reviewer's scores.
        for item in items:
            reviewer.fill(f"#score-{item['id']}", str(item["points"]))
        reviewer.check("input[name=recommendation][value=strong_yes]")
        reviewer.fill("#comment", "Clear trade-offs, careful with the data.")
        reviewer.click("#submit-review")
        expect(reviewer.locator("#saved")).to_contain_text("Your review is saved")
        expect(reviewer.locator("#reviews")).to_contain_text("Rob's view")
        expect(reviewer.locator("#reviews")).to_contain_text("no")
        assert reviewer.locator("#decision-form").count() == 0  # reviewers do not decide

        # 6. The admin decides from the candidates table.
        admin.goto(f"{platform.url}/tasks/{slug}/candidates")
        admin.get_by_role("link", name=CANDIDATE).click()
        expect(admin.locator("#reviews")).to_contain_text("Rita")
        admin.check("input[name=decision][value=advance]")
        admin.fill("#note", "Onsite next week")
        admin.click("#submit-decision")
        expect(admin.locator("#saved")).to_contain_text("Decision recorded")

        # 7. The candidates table and the CSV show it (the reviewer's export is pseudonymous).
        reviewer.goto(f"{platform.url}/tasks/{slug}/candidates")
        row = reviewer.locator("#candidates tbody tr", has_text=pseudonym)
        expect(row).to_contain_text("advance")
        expect(row).to_contain_text("decided")
        with reviewer.expect_download() as download:
            reviewer.click("#csv")
        text = Path(download.value.path()).read_text()
        assert pseudonym in text and "advance" in text and CANDIDATE not in text
        assert json.dumps(CANDIDATE)[1:-1] not in text
        admin_csv = admin.request.get(f"{platform.url}/api/v1/tasks/{slug}/submissions?format=csv").text()
        assert CANDIDATE in admin_csv and "advance" in admin_csv
