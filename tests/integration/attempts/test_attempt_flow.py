"""Start → the kernel calls the mock with the openai SDK → the saved notebook is on the host → submit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from attempts_harness import PROBE_CODE, attempt_pods, probe_notebook
from kernel_ws import new_kernel, run_cell

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]


def test_start_run_save_submit(make_platform, data_dir):
    platform, slug = make_platform()
    admin = platform.admin_token()
    invitation = platform.invite(admin, slug)
    assert len(invitation["token"]) >= 32 and invitation["url"].endswith(invitation["token"])

    started, cookie = platform.start_attempt(invitation["token"])
    again, _ = platform.start_attempt(invitation["token"])
    assert again["attempt_id"] == started["attempt_id"] and again["deadline"] == started["deadline"]
    attempt_id = started["attempt_id"]
    assert started["workspace_url"] == f"/w/{attempt_id}/"
    assert {c["Labels"].count("worksample.test=1") for c in attempt_pods(attempt_id)} == {1}

    with platform.candidate(cookie) as client:
        page = client.get(f"/w/{attempt_id}/")
        assert page.status_code == 200 and "countdown" in page.text
        assert "probe.ipynb" in client.get(f"/w/{attempt_id}/api/contents").text  # starter files copied
        kernel = new_kernel(client, attempt_id)
        output = run_cell(platform, cookie, attempt_id, kernel, PROBE_CODE, "call-mock")
        assert "MOCK-OK atlas-mini True" in output, output
        notebook = probe_notebook()
        notebook["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": output}]
        saved = client.put(f"/w/{attempt_id}/api/contents/work.ipynb",
                           json={"type": "notebook", "format": "json", "content": notebook})
        assert saved.status_code in (200, 201), saved.text
        on_host = data_dir / "attempts" / attempt_id / "workspace" / "work.ipynb"
        assert "MOCK-OK" in on_host.read_text()

        assert client.post(f"/w/{attempt_id}/api/kernels/{kernel}/restart").status_code == 200

        receipt = client.post(f"/api/v1/attempts/{attempt_id}/submit")
        assert receipt.status_code == 202
        submission_id = receipt.json()["submission_id"]
        assert client.post(f"/api/v1/attempts/{attempt_id}/submit").json()["submission_id"] == submission_id
        assert attempt_pods(attempt_id) == []
        closed = client.get(f"/w/{attempt_id}/")
        assert closed.status_code == 410 and "submitted" in closed.text
        assert client.get(f"/w/{attempt_id}/lab").status_code == 410

    from worksample.db import Submission, session_scope

    with session_scope() as db:
        sub = db.scalar(select(Submission).where(Submission.id == submission_id))
        assert sub.status.value == "queued" and sub.attempt_id == attempt_id
        artifacts = data_dir / "submissions" / submission_id / "workspace"
        assert sub.artifacts_path == str(artifacts.parent)
    assert "MOCK-OK" in (artifacts / "work.ipynb").read_text()
    assert (artifacts / "probe.ipynb").exists() and not (artifacts / "data").exists()

    activity = platform_activity(platform, admin, attempt_id)
    kinds = [e["kind"] for e in activity]
    assert {"started", "save", "kernel_restart", "submitted"} <= set(kinds)
    assert kinds.index("save") < kinds.index("kernel_restart") < kinds.index("submitted")
    cell = next(e for e in activity if e["kind"] == "cell_executed")
    assert cell["cell_id"] == "call-mock" and cell["code_bytes"] == len(PROBE_CODE)


def platform_activity(platform, admin: str, attempt_id: str) -> list[dict]:
    import httpx

    resp = httpx.get(f"{platform.url}/api/v1/attempts/{attempt_id}/activity",
                     headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["events"]
