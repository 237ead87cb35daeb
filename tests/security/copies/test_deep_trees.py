"""Deep directory trees a candidate can build (relative mkdir/chdir has no PATH_MAX) never break a copy.

The snapshot at Submit and the grading copy-out walk candidate trees as root:
a 1,200- or 1,500-deep tree must be cut at the depth bound and recorded, never
raise (RecursionError made Submit answer 500 and grading end `error`).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture(autouse=True)
def remove_deep_trees(tmp_path: Path):
    """Delete this test's trees with rm (iterative): pytest's own cleanup recurses and fails on them."""
    yield
    subprocess.run(["rm", "-rf", str(tmp_path)], check=False)


def deep_tree(root: Path, depth: int, leaf: str = "deep.txt") -> None:
    """`depth` nested folders named `d` under root, with a file at the bottom (built with relative paths)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            sub = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = sub
        with os.fdopen(os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as fh:
            fh.write("bottom")
    finally:
        os.close(fd)


def test_a_1200_deep_workspace_is_snapshotted_and_the_cut_recorded(tmp_path: Path):
    from worksample.sandbox.files import MAX_DEPTH
    from worksample.workspace.snapshot import snapshot_workspace

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "solution.ipynb").write_text("{}")
    deep_tree(ws, 1200)
    manifest = snapshot_workspace(ws, tmp_path / "out", time.time() + 60)
    assert manifest.files == ["solution.ipynb"]
    cut = [s for s in manifest.skipped if "deeper than" in s["reason"]]
    assert len(cut) == 1 and cut[0]["path"].count("/") == MAX_DEPTH  # the first folder past the bound
    assert (tmp_path / "out" / "solution.ipynb").read_text() == "{}"


def test_a_1500_deep_outputs_tree_copies_out_what_is_within_bounds(tmp_path: Path):
    from worksample.sandbox.files import copy_out

    ws = tmp_path / "ws"
    (ws / "outputs").mkdir(parents=True)
    (ws / "outputs" / "result.txt").write_text("26")
    deep_tree(ws / "outputs", 1500)
    skipped = copy_out((ws, ("outputs",)), tmp_path / "out", max_bytes=1 << 20)
    assert (tmp_path / "out" / "result.txt").read_text() == "26"
    assert len(skipped) == 1 and skipped[0].startswith("d/d/")


def test_long_names_cannot_push_a_copy_past_path_max(tmp_path: Path):
    from worksample.sandbox.files import MAX_PATH, copy_out

    ws = tmp_path / "ws"
    (ws / "outputs").mkdir(parents=True)
    fd = os.open(ws / "outputs", os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(40):  # 40 x 250 characters: 10,000, well past PATH_MAX (4,096) on the host side
        os.mkdir("x" * 250, dir_fd=fd)
        sub = os.open("x" * 250, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = sub
    os.close(fd)
    (ws / "outputs" / "result.txt").write_text("26")
    skipped = copy_out((ws, ("outputs",)), tmp_path / "out", max_bytes=1 << 20)
    assert (tmp_path / "out" / "result.txt").read_text() == "26"
    assert len(skipped) == 1 and skipped[0].endswith("...")
    longest = max(len(str(p.relative_to(tmp_path / "out"))) for p in (tmp_path / "out").rglob("*"))
    assert longest <= MAX_PATH
