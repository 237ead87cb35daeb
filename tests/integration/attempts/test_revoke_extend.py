"""An admin extends or revokes a running attempt: the database, the pod and the reaper agree.

- an extension moves the deadline the reaper goes by (Docker labels cannot
  change), so an extended pod is never reaped early;
- a revoke stops the attempt at once: pod removed, workspace kept, no
  submission, the link and the workspace refuse;
- either on an attempt that has ended answers 409 with the reason.
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from attempts_harness import attempt_pods

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]


def put_file(client, attempt_id: str, name: str, text: str) -> None:
    resp = client.put(f"/w/{attempt_id}/api/contents/{name}", json={"type": "file", "format": "text", "content": text})
    assert resp.status_code in (200, 201), resp.text


def admin_post(platform, admin: str, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(platform.url + path, json=body, headers={"Authorization": f"Bearer {admin}"}, timeout=60)


def running(attempt_id: str) -> bool:
    return any(c["State"] == "running" for c in attempt_pods(attempt_id))


def started_attempt(make_platform, time_limit: str = "30m"):
    """A platform with one running attempt: (platform, admin token, invitation, attempt id, attempt cookie)."""
    platform, slug = make_platform(time_limit=time_limit)
    admin = platform.admin_token()
    invitation = platform.invite(admin, slug)
    started, cookie = platform.start_attempt(invitation["token"])
    return platform, admin, invitation, started, cookie


@pytest.mark.timeout(600)
def test_an_attempt_extended_by_60_minutes_is_not_reaped_at_its_old_deadline(make_platform):
    from worksample.sandbox import reap

    platform, admin, _invitation, started, cookie = started_attempt(make_platform, time_limit="1m")
    attempt_id = started["attempt_id"]
    old_deadline = datetime.fromisoformat(started["deadline"]).timestamp()
    resp = admin_post(platform, admin, f"/api/v1/attempts/{attempt_id}/extend", {"minutes": 60})
    assert resp.status_code == 200, resp.text
    assert resp.json()["deadline_ts"] == pytest.approx(old_deadline + 3600, abs=1)

    # The reaper runs when the old deadline and its 15-minute grace are long gone.
    reaped = reap(now=old_deadline + 900 + 300)
    assert running(attempt_id), f"the extended attempt's pod was reaped: {reaped}"
    with platform.candidate(cookie) as client:
        assert client.get(f"/w/{attempt_id}/api/status").status_code == 200
    # Past the new deadline and its grace, the reaper does remove it (the pod is not immortal).
    reap(now=old_deadline + 3600 + 900 + 60)
    assert attempt_pods(attempt_id) == []


@pytest.mark.timeout(600)
def test_revoke_stops_a_running_attempt_at_once_and_keeps_its_work(make_platform, data_dir):
    from worksample.sandbox import close_workspace, open_workspace

    platform, admin, invitation, started, cookie = started_attempt(make_platform)
    attempt_id = started["attempt_id"]
    with platform.candidate(cookie) as client:
        put_file(client, attempt_id, "notes.txt", "keep me")
    assert running(attempt_id)

    began = time.monotonic()
    resp = admin_post(platform, admin, f"/api/v1/invitations/{invitation['id']}/revoke")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": invitation["id"], "revoked": True, "attempt_id": attempt_id,
                           "attempt_status": "revoked"}
    while attempt_pods(attempt_id) and time.monotonic() - began < 10:
        time.sleep(0.2)
    assert attempt_pods(attempt_id) == [], "the pod outlived the revoke"

    with platform.candidate(cookie) as client:
        state = client.get(f"/api/v1/attempts/{attempt_id}").json()
        assert state["status"] == "revoked" and state["submission_id"] is None
        assert client.get(f"/w/{attempt_id}/api/status").status_code == 410  # the proxy refuses
        assert client.post(f"/api/v1/attempts/{attempt_id}/submit").status_code == 409  # nothing handed in
    assert httpx.post(f"{platform.url}/api/v1/attempts/{invitation['token']}/start").status_code == 410
    page = httpx.get(f"{platform.url}/c/{invitation['token']}")
    assert page.status_code == 410 and "Continue" not in page.text and "withdrawn" in page.text
    assert not (data_dir / "submissions").exists() or not any((data_dir / "submissions").iterdir())

    # The work is kept: the workspace image still holds the file.
    folder = data_dir / "attempts" / attempt_id
    workspace = open_workspace(folder / "workspace.img", folder / "workspace", (folder / "workspace.img").stat().st_size)
    try:
        assert (workspace.path / "notes.txt").read_text() == "keep me"
    finally:
        close_workspace(workspace)

    again = admin_post(platform, admin, f"/api/v1/invitations/{invitation['id']}/revoke")
    assert again.status_code == 200  # revoking twice is harmless
    late = admin_post(platform, admin, f"/api/v1/attempts/{attempt_id}/extend", {"minutes": 5})
    assert late.status_code == 409 and "already ended (revoked)" in late.json()["detail"]


@pytest.mark.timeout(600)
def test_revoking_or_extending_an_attempt_that_has_ended_is_409_with_the_reason(make_platform):
    platform, admin, invitation, started, cookie = started_attempt(make_platform)
    attempt_id = started["attempt_id"]
    with platform.candidate(cookie) as client:
        assert client.post(f"/api/v1/attempts/{attempt_id}/submit").status_code == 202

    late = admin_post(platform, admin, f"/api/v1/attempts/{attempt_id}/extend", {"minutes": 5})
    assert late.status_code == 409 and "already ended (submitted)" in late.json()["detail"]
    revoked = admin_post(platform, admin, f"/api/v1/invitations/{invitation['id']}/revoke")
    assert revoked.status_code == 409 and "already ended (submitted)" in revoked.json()["detail"]
    assert admin_post(platform, admin, "/api/v1/invitations/nope/revoke").status_code == 404
