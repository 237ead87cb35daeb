"""The candidate's files as a zip download (the workspace snapshot taken at submission).

The snapshot was already copied without following links and size-capped
(workspace/snapshot.py); here it is walked again without following links, only
regular files are packed, and the total is capped once more.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from worksample.db import Attempt, Invitation, Submission, Task, session_scope
from worksample.review.viewer import Viewer

TOTAL_CAP = 300 * 1024**2
MAX_DEPTH = 40
CHUNK = 256 * 1024


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    stack = [(root, 0)]
    while stack:  # iterative, depth-limited: never recurse on candidate data
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode) and depth < MAX_DEPTH:
                stack.append((Path(entry.path), depth + 1))
            elif stat.S_ISREG(st.st_mode):
                yield Path(entry.path), os.path.relpath(entry.path, root)


def _name(viewer: Viewer, submission_id: str) -> tuple[str, Path] | None:
    with session_scope() as db:
        sub = db.get(Submission, submission_id)
        if sub is None or sub.attempt_id is None:
            return None
        attempt = db.get(Attempt, sub.attempt_id)
        inv = db.get(Invitation, attempt.invitation_id)
        slug = db.get(Task, sub.task_id).slug
        who = viewer.candidate(inv.id, inv.candidate_name)
        return f"{slug}-{re.sub(r'[^A-Za-z0-9]+', '-', who).strip('-')[:60] or 'candidate'}.zip", \
            Path(sub.artifacts_path) / "workspace"


def workspace_zip(viewer: Viewer, submission_id: str) -> tuple[str, Iterator[bytes]] | None:
    """(download file name, byte chunks of the zip) of a submission's workspace, or None when there is none."""
    found = _name(viewer, submission_id)
    if found is None or not found[1].is_dir() or found[1].is_symlink():
        return None
    name, root = found
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024**2)
    total = 0
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, rel in _files(root):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as handle:
                data = handle.read(TOTAL_CAP - total + 1)
            if total + len(data) > TOTAL_CAP:
                archive.writestr("TRUNCATED.txt", "The download stopped at the size cap; some files are missing.\n")
                break
            total += len(data)
            archive.writestr(rel, data)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(CHUNK):
                yield block

    return name, chunks()
