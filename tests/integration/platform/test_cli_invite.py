"""The staff CLI a new user meets first: tokens and invitations (issue 13, defect 4). SQLite only, no services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent
SLUG = "support-ticket-triage"


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, WORKSAMPLE_DATA_DIR=str(data_dir))
    env.pop("WORKSAMPLE_PUBLIC_URL", None)
    return subprocess.run([str(VENV_BIN / "worksample"), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.timeout(120)
def test_token_create_for_a_reviewer_after_an_admin_needs_no_name(tmp_path):
    admin = _cli(tmp_path, "token", "create", "--role", "admin")
    assert admin.returncode == 0 and admin.stdout.startswith("wst_"), admin.stderr
    reviewer = _cli(tmp_path, "token", "create", "--role", "reviewer")
    assert reviewer.returncode == 0, reviewer.stderr
    assert reviewer.stdout.startswith("wst_") and reviewer.stdout != admin.stdout
    clash = _cli(tmp_path, "token", "create", "--role", "reviewer", "--name", "admin")
    assert clash.returncode == 1
    assert "Traceback" not in clash.stderr and clash.stderr.count("\n") == 1
    assert "--name admin" in clash.stderr and "exists with role admin" in clash.stderr


@pytest.mark.timeout(120)
def test_invite_prints_id_and_url_then_list_revoke_extend(tmp_path, monkeypatch):
    from worksample.config import get_settings
    from worksample.workspace.invitations import InvitationState, view_invitation

    made = _cli(tmp_path, "invite", SLUG, "--name", "Ada", "--email", "ada@example.com")
    assert made.returncode == 0, made.stderr
    lines = dict(line.split(": ", 1) for line in made.stdout.strip().splitlines())
    assert set(lines) == {"invitation", "url"}
    assert lines["url"].startswith("http://127.0.0.1:8000/c/")
    as_json = json.loads(_cli(tmp_path, "invite", "create", SLUG, "--name", "Bo", "--email", "bo@example.com",
                              "--json").stdout)
    assert set(as_json) == {"id", "url"}

    listed = [json.loads(line) for line in _cli(tmp_path, "invite", "list", "--json").stdout.splitlines()]
    assert [row["id"] for row in listed] == [as_json["id"], lines["invitation"]]
    assert {row["state"] for row in listed} == {"open"}

    not_started = _cli(tmp_path, "invite", "extend", lines["invitation"], "--minutes", "10")
    assert not_started.returncode == 1 and "no attempt yet" in not_started.stderr
    unknown = _cli(tmp_path, "invite", "revoke", "nope")
    assert unknown.returncode == 1 and "nope" in unknown.stderr and "Traceback" not in unknown.stderr

    revoked = _cli(tmp_path, "invite", "revoke", lines["invitation"])
    assert revoked.returncode == 0, revoked.stderr
    assert f"invitation {lines['invitation']}: revoked" in revoked.stdout
    states = {row["id"]: row["state"] for row in
              (json.loads(line) for line in _cli(tmp_path, "invite", "list", "--json").stdout.splitlines())}
    assert states == {lines["invitation"]: "revoked", as_json["id"]: "open"}
    monkeypatch.setenv("WORKSAMPLE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert view_invitation(lines["url"].rsplit("/", 1)[1]).state is InvitationState.revoked
    finally:
        get_settings.cache_clear()


@pytest.mark.timeout(60)
def test_invite_url_follows_public_url_setting(tmp_path):
    env_url = "https://hire.example.com"
    res = subprocess.run([str(VENV_BIN / "worksample"), "invite", SLUG, "--name", "Cy", "--email", "cy@example.com"],
                         env=dict(os.environ, WORKSAMPLE_DATA_DIR=str(tmp_path), WORKSAMPLE_PUBLIC_URL=env_url),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert f"url: {env_url}/c/" in res.stdout
