"""A workspace is written by candidate code; copying it out as root must not be turned against the host."""

from __future__ import annotations

import os
import time
from pathlib import Path

from worksample.workspace.proxy import unsafe_path
from worksample.workspace.snapshot import MAX_FILE, snapshot_workspace


def test_snapshot_follows_no_link_and_skips_late_and_special_files(tmp_path: Path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("root:x:0:0")
    ws = tmp_path / "ws"
    (ws / "outputs").mkdir(parents=True)
    (ws / "data").mkdir()
    (ws / "data" / "tickets.csv").write_text("task data, not the candidate's")
    (ws / "outputs" / "result.json").write_text("{}")
    (ws / "notebook.ipynb").write_text("{}")
    os.symlink(secret, ws / "outputs" / "leak.txt")  # a file link out of the workspace
    os.symlink(tmp_path, ws / "escape")  # a directory link out of the workspace
    os.mkfifo(ws / "pipe")  # would block a naive reader forever
    (ws / ".ipynb_checkpoints").mkdir()
    (ws / ".ipynb_checkpoints" / "notebook-checkpoint.ipynb").write_text("{}")
    with open(ws / "huge.bin", "wb") as fh:
        fh.truncate(MAX_FILE + 1)
    cutoff = time.time()
    time.sleep(0.05)
    (ws / "late.txt").write_text("written after the deadline")

    dest = tmp_path / "out"
    manifest = snapshot_workspace(ws, dest, cutoff)

    assert sorted(manifest.files) == ["notebook.ipynb", "outputs/result.json"]
    assert not (dest / "outputs" / "leak.txt").exists() and not (dest / "escape").exists()
    assert not (dest / "data").exists() and not (dest / "late.txt").exists() and not (dest / "huge.bin").exists()
    assert not (dest / ".ipynb_checkpoints").exists()
    reasons = {item["path"]: item["reason"] for item in manifest.skipped}
    assert "after the deadline" in reasons["late.txt"] and "larger" in reasons["huge.bin"]
    assert {"outputs/leak.txt", "escape", "pipe"} <= set(reasons)
    assert "root:x" not in "".join(p.read_text() for p in dest.rglob("*") if p.is_file())


def test_escaping_paths_are_recognised_in_every_encoding():
    for path in ("/w/a/../b/", "/w/a/%2e%2e/b", "/w/a/%2E%2e/b", "/w/a/..%2fb", "/w/a/%252e%252e/x",
                 "/w/a/%25252e%25252e/x", "/w/a/..%5cx", "/w/a/x%00.ipynb", "/w/a/./x", "/w/a/.%2E/x"):
        assert unsafe_path(path), path
    for path in ("/w/a/lab", "/w/a/api/contents/my%20notebook.ipynb", "/w/a/files/outputs/result.json",
                 "/w/a/api/contents/v1..v2.csv", "/w/a/"):
        assert not unsafe_path(path), path
