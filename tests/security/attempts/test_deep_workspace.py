"""A 1,200-deep folder tree in the workspace cannot make Submit impossible (it was a 500, the attempt stuck running)."""

from __future__ import annotations

import json
import subprocess

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]


def deep_tree(root, depth: int) -> None:
    """`depth` nested folders under root, built as candidate code can: a shell loop of relative mkdir/cd."""
    script = f'cd "$1" && i=0; while [ $i -lt {depth} ]; do mkdir d && cd d || exit 1; i=$((i+1)); done'
    subprocess.run(["sh", "-c", script, "sh", str(root)], check=True, timeout=120)


@pytest.mark.timeout(600)
def test_submit_with_a_1200_deep_tree_makes_a_submission(make_platform, data_dir):
    platform, slug = make_platform()
    started, cookie = platform.start_attempt(platform.invite(platform.admin_token(), slug)["token"])
    attempt_id = started["attempt_id"]
    with platform.candidate(cookie) as client:
        saved = client.put(f"/w/{attempt_id}/api/contents/answer.txt",
                           json={"type": "file", "format": "text", "content": "42"})
        assert saved.status_code in (200, 201), saved.text
        deep_tree(data_dir / "attempts" / attempt_id / "workspace", 1200)  # what the candidate's code built
        resp = client.post(f"/api/v1/attempts/{attempt_id}/submit")
        assert resp.status_code == 202, resp.text
        state = client.get(f"/api/v1/attempts/{attempt_id}").json()
    assert state["status"] == "submitted" and state["submission_id"] == resp.json()["submission_id"]
    artifacts = data_dir / "submissions" / state["submission_id"]
    assert (artifacts / "workspace" / "answer.txt").read_text() == "42"
    skipped = json.loads((artifacts / "snapshot.json").read_text())["skipped"]
    assert any("deeper than" in s["reason"] for s in skipped)
