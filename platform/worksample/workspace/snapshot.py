"""Copy a candidate's workspace out at Submit or the deadline, as root, without trusting anything in it.

The copy is `worksample.sandbox.files.copy_tree`: directory-relative, no link
followed, iterative with a depth limit, size-capped, so whatever the workspace
holds (a 1,200-deep tree, a planted link, a FIFO) a submission is made and what
was left out is listed in the manifest. On top of that: the mounted `data/` is
the task's, not the candidate's, and `.ipynb_checkpoints` are left out; a file
whose inode changed after the cutoff (`st_ctime`, which code in the sandbox
cannot set back, unlike mtime) is left out: nothing written after the deadline
counts.
"""

from __future__ import annotations

import os
from pathlib import Path

from worksample.sandbox.files import CopyLimits, Manifest, copy_tree

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
SKIP_TOP = {"data", "lost+found"}
SKIP_ANYWHERE = {".ipynb_checkpoints", "__pycache__", ".Trash-1000"}
MAX_TOTAL = 256 * 1024**2
MAX_FILE = 64 * 1024**2
LIMITS = CopyLimits(total=MAX_TOTAL, per_file=MAX_FILE)

__all__ = ["LIMITS", "MAX_FILE", "MAX_TOTAL", "Manifest", "snapshot_workspace"]


def _exclude(_rel: str, name: str, depth: int) -> bool:
    return (depth == 0 and name in SKIP_TOP) or name in SKIP_ANYWHERE


def snapshot_workspace(source: Path, dest: Path, cutoff: float) -> Manifest:
    """Copy the workspace at `source` into `dest` (created); files changed after `cutoff` are left out."""

    def late(_rel: str, st: os.stat_result) -> str | None:
        return "changed after the deadline" if st.st_ctime > cutoff else None

    root = os.open(source, _DIR_FLAGS)
    try:
        return copy_tree(root, dest, LIMITS, exclude=_exclude, refuse=late)
    finally:
        os.close(root)
