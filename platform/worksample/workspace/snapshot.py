"""Copy a candidate's workspace out, as root, without trusting anything in it.

Every directory is opened with O_NOFOLLOW relative to its parent's descriptor,
so a symlink the candidate planted (even one swapped in during the copy) is
skipped, never followed. The mounted `data/` is left out (it is the task's, not
the candidate's), and so are `.ipynb_checkpoints`. A file whose inode changed
after the cutoff (`st_ctime`, which code in the sandbox cannot set back, unlike
mtime) is left out: nothing written after the deadline counts. Copies are capped
per file and in total; what was skipped is listed in the returned manifest.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
SKIP_TOP = {"data", "lost+found"}
SKIP_ANYWHERE = {".ipynb_checkpoints", "__pycache__", ".Trash-1000"}
MAX_TOTAL = 256 * 1024**2
MAX_FILE = 64 * 1024**2
MAX_FILES = 20_000
_CHUNK = 1024 * 1024


@dataclass
class Manifest:
    """What a snapshot copied and what it left out (and why)."""

    files: list[str] = field(default_factory=list)
    bytes: int = 0
    skipped: list[dict] = field(default_factory=list)

    def skip(self, path: str, reason: str) -> None:
        """Note a path left out."""
        if len(self.skipped) < 1000:
            self.skipped.append({"path": path, "reason": reason})


def snapshot_workspace(source: Path, dest: Path, cutoff: float) -> Manifest:
    """Copy the workspace at `source` into `dest` (created); files changed after `cutoff` are left out."""
    dest.mkdir(parents=True, exist_ok=True)
    manifest = Manifest()
    root = os.open(source, _DIR_FLAGS)
    try:
        _copy_dir(root, dest, "", cutoff, manifest)
    finally:
        os.close(root)
    return manifest


def _copy_dir(dir_fd: int, dest: Path, prefix: str, cutoff: float, manifest: Manifest) -> None:
    for name in sorted(os.listdir(dir_fd)):
        rel = f"{prefix}{name}"
        if (not prefix and name in SKIP_TOP) or name in SKIP_ANYWHERE:
            continue
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):
            _copy_subdir(dir_fd, name, dest / name, rel, cutoff, manifest)
        elif stat.S_ISREG(st.st_mode):
            _copy_file(dir_fd, name, dest / name, rel, st, cutoff, manifest)
        else:
            manifest.skip(rel, "not a regular file or directory (symlink, fifo, socket)")


def _copy_subdir(dir_fd: int, name: str, dest: Path, rel: str, cutoff: float, manifest: Manifest) -> None:
    try:
        sub = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        manifest.skip(rel, "could not be opened as a directory")
        return
    try:
        dest.mkdir(exist_ok=True)
        _copy_dir(sub, dest, rel + "/", cutoff, manifest)
    finally:
        os.close(sub)


def _copy_file(dir_fd: int, name: str, dest: Path, rel: str, st: os.stat_result, cutoff: float,
               manifest: Manifest) -> None:
    if st.st_ctime > cutoff:
        return manifest.skip(rel, "changed after the deadline")
    if st.st_size > MAX_FILE:
        return manifest.skip(rel, f"larger than {MAX_FILE // 1024**2} MiB")
    if manifest.bytes + st.st_size > MAX_TOTAL or len(manifest.files) >= MAX_FILES:
        return manifest.skip(rel, "snapshot size cap reached")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        return manifest.skip(rel, "could not be opened")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
            return manifest.skip(rel, "not a regular file")
        copied = _copy_bytes(fd, dest, MAX_FILE)
    finally:
        os.close(fd)
    manifest.files.append(rel)
    manifest.bytes += copied


def _copy_bytes(fd: int, dest: Path, cap: int) -> int:
    total = 0
    with open(dest, "wb") as out:
        while total < cap:
            chunk = os.read(fd, min(_CHUNK, cap - total))
            if not chunk:
                break
            out.write(chunk)
            total += len(chunk)
    return total
