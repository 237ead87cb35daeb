"""The clock: auto-submit at the deadline, extensions, an API restart mid-attempt, a deadline passing while down."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime

import httpx
import pytest

from attempts_harness import VENV_BIN, attempt_pods
from kernel_ws import new_kernel, run_cell

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]


def wait_closed(client, attempt_id: str, timeout: float) -> dict:
    """Poll the attempt until it is no longer running; its state."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = client.get(f"/api/v1/attempts/{attempt_id}").json()
        if state["status"] != "running":
            return state
        time.sleep(0.5)
    raise AssertionError(f"attempt {attempt_id} still running after {timeout}s")


def put_file(client, attempt_id: str, name: str, text: str) -> None:
    resp = client.put(f"/w/{attempt_id}/api/contents/{name}", json={"type": "file", "format": "text", "content": text})
    assert resp.status_code in (200, 201), resp.text


def test_one_minute_task_submits_itself_and_extensions(make_platform, data_dir):
    platform, slug = make_platform(time_limit="1m")
    admin = platform.admin_token()
    a, cookie_a = platform.start_attempt(platform.invite(admin, slug, "Ann")["token"])
    b, cookie_b = platform.start_attempt(platform.invite(admin, slug, "Bob")["token"])
    # An admin extends B's deadline (CLI) before it passes.
    out = subprocess.run([str(VENV_BIN / "worksample"), "attempt", "extend", b["attempt_id"], "--minutes", "5"],
                         env=platform.env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    with platform.candidate(cookie_a) as client:
        put_file(client, a["attempt_id"], "answer.txt", "42")
        state = wait_closed(client, a["attempt_id"], timeout=90)
        deadline = datetime.fromisoformat(a["deadline"]).timestamp()
        assert state["status"] == "expired"
        assert datetime.fromisoformat(state["submitted_at"]).timestamp() - deadline < 10
        assert attempt_pods(a["attempt_id"]) == []
        assert client.get(f"/w/{a['attempt_id']}/lab").status_code == 410
    artifacts = data_dir / "submissions" / state["submission_id"] / "workspace"
    assert (artifacts / "answer.txt").read_text() == "42"
    with platform.candidate(cookie_b) as client:
        state_b = client.get(f"/api/v1/attempts/{b['attempt_id']}").json()
        assert state_b["status"] == "running"
        assert state_b["deadline_ts"] - datetime.fromisoformat(b["deadline"]).timestamp() == pytest.approx(300, abs=1)
        assert client.get(f"/w/{b['attempt_id']}/api/status").status_code == 200
    # Once a deadline has passed, it cannot be extended.
    late = httpx.post(f"{platform.url}/api/v1/attempts/{a['attempt_id']}/extend", json={"minutes": 5},
                      headers={"Authorization": f"Bearer {admin}"})
    assert late.status_code == 409


def test_api_restart_loses_nothing_and_a_deadline_passed_while_down_is_honoured(make_platform, data_dir):
    platform, slug = make_platform(time_limit="1m")
    started, cookie = platform.start_attempt(platform.invite(platform.admin_token(), slug)["token"])
    attempt_id = started["attempt_id"]
    pod_json = data_dir / "attempts" / attempt_id / "pod.json"
    pod_before = json.loads(pod_json.read_text())["pod_id"]
    with platform.candidate(cookie) as client:
        kernel = new_kernel(client, attempt_id)
        assert run_cell(platform, cookie, attempt_id, kernel, "x = 42; print('set')") == "set\n"

    platform.stop(signal.SIGKILL)  # the API crashes mid-attempt...
    platform.start()  # ...and comes back: same pod, same kernel, same cookie
    with platform.candidate(cookie) as client:
        assert client.get(f"/w/{attempt_id}/").status_code == 200
        assert run_cell(platform, cookie, attempt_id, kernel, "print(x)") == "42\n"
        assert json.loads(pod_json.read_text())["pod_id"] == pod_before
        deadline = client.get(f"/api/v1/attempts/{attempt_id}").json()["deadline_ts"]
        # Saved before the deadline; written by code still running after it.
        put_file(client, attempt_id, "early.txt", "in time")
        code = ("import threading, time, pathlib\n"
                f"threading.Timer({deadline} - time.time() + 3, lambda: pathlib.Path('late.txt').write_text('late')).start()\n"
                "print('armed')")
        assert run_cell(platform, cookie, attempt_id, kernel, code) == "armed\n"

    platform.stop()  # the API is down at the deadline
    while time.time() < deadline + 6:
        time.sleep(0.5)
    assert (data_dir / "attempts" / attempt_id / "workspace" / "late.txt").exists()  # the pod kept writing
    platform.start()  # start-up handles the missed deadline
    with platform.candidate(cookie) as client:
        state = wait_closed(client, attempt_id, timeout=30)
    assert state["status"] == "expired"
    artifacts = data_dir / "submissions" / state["submission_id"] / "workspace"
    assert (artifacts / "early.txt").read_text() == "in time"
    assert not (artifacts / "late.txt").exists()  # nothing written after the deadline counts
    assert attempt_pods(attempt_id) == []


def test_stopping_up_keeps_workspaces_and_the_link_resumes_in_a_new_pod(make_platform, data_dir):
    platform, slug = make_platform(command="up")
    invite_token = platform.invite(platform.admin_token(), slug)["token"]
    started, cookie = platform.start_attempt(invite_token)
    attempt_id = started["attempt_id"]
    first_pod = json.loads((data_dir / "attempts" / attempt_id / "pod.json").read_text())["pod_id"]
    with platform.candidate(cookie) as client:
        put_file(client, attempt_id, "notes.txt", "keep me")

    platform.stop()
    assert platform.proc.returncode == 0, platform.output()[-2000:]
    assert attempt_pods(attempt_id) == []
    assert (data_dir / "attempts" / attempt_id / "workspace" / "notes.txt").read_text() == "keep me"

    platform.start()
    resumed, cookie = platform.start_attempt(invite_token)  # the candidate reopens the link
    assert resumed["attempt_id"] == attempt_id and resumed["deadline"] == started["deadline"]
    second_pod = json.loads((data_dir / "attempts" / attempt_id / "pod.json").read_text())["pod_id"]
    assert second_pod != first_pod
    with platform.candidate(cookie) as client:
        assert client.get(f"/w/{attempt_id}/api/contents/notes.txt").json()["content"] == "keep me"
