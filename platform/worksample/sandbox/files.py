"""Copying files into and out of a pod's workspace, host side, without trusting the workspace.

The workspace is written by candidate code, and we act on it as root. So every
step goes through directory file descriptors opened with O_NOFOLLOW: a symlink
the candidate planted (even one swapped in mid-copy) is skipped, never followed,
and nothing outside the workspace is read or written.

`copy_tree` is the one copier of candidate trees (the grading copy-out and the
submission snapshot): it walks iteratively (no recursion on candidate data),
directory-relative on both sides, with explicit bounds on depth, path length,
file count, per-file and total bytes; whatever is over a bound is skipped and
recorded with the reason, never an exception.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from worksample.errors import WorksampleError
from worksample.sandbox.spec import WORKLOAD_UID

WORKSPACE = PurePosixPath("/workspace")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in mid-copy must not hang us; an fstat after opening rejects it.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1024 * 1024
MAX_DEPTH = 64  # folders below the copied root; deeper trees are cut there, and the cut is recorded
MAX_PATH = 1024  # characters of a path relative to the copied root
MAX_FILES = 20_000
MAX_SKIPPED = 1000  # entries kept in a manifest's `skipped` list (the count is always exact)


class CopyError(WorksampleError):
    """A copy in or out could not be done (bad path, over the cap)."""


def host_path(workspace: Path, container_path: str) -> tuple[Path, tuple[str, ...]]:
    """Split a path inside the pod (`/workspace/outputs`) into (host workspace, relative parts).

    Raises CopyError for anything outside /workspace or containing `..`.
    """
    path = PurePosixPath(container_path)
    if not path.is_absolute():
        path = WORKSPACE / path
    try:
        rel = path.relative_to(WORKSPACE)
    except ValueError:
        raise CopyError(f"{container_path}: only paths under /workspace can be copied") from None
    if ".." in rel.parts:
        raise CopyError(f"{container_path}: '..' is not allowed")
    return workspace, rel.parts


def prepare_workspace(path: Path, with_data: bool = False) -> None:
    """Check the workspace dir exists and make `outputs/` (and the `data/` mount point) in it."""
    if not path.is_dir():
        raise CopyError(f"workspace {path} does not exist or is not a directory")
    root = os.open(path, _DIR_FLAGS)
    try:
        _remove_empty_lost_found(root)
        for name in ["outputs"] + (["data"] if with_data else []):
            _ensure_dir(root, name)
    finally:
        os.close(root)


def _remove_empty_lost_found(root: int) -> None:
    try:
        os.rmdir("lost+found", dir_fd=root)
    except OSError:
        pass  # absent, or not empty: leave it


def _ensure_dir(parent: int, name: str) -> int:
    """Open (creating if needed, owned by the workload) a real directory `name` under `parent`."""
    try:
        os.mkdir(name, 0o755, dir_fd=parent)
        os.chown(name, WORKLOAD_UID, WORKLOAD_UID, dir_fd=parent, follow_symlinks=False)
    except FileExistsError:
        pass
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        raise CopyError(f"{name}: not a directory in the workspace ({exc.strerror})") from None


def copy_in(source: Path, target: tuple[Path, tuple[str, ...]]) -> int:
    """Copy a host file or folder into the workspace at `target`; files end up owned by uid 1000.

    Returns the bytes copied. Symlinks in `source` are skipped; an existing
    entry in the way (including a planted symlink) is replaced, never followed.
    """
    workspace, parts = target
    fd = os.open(workspace, _DIR_FLAGS)
    try:
        for part in parts:
            next_fd = _ensure_dir(fd, part)
            os.close(fd)
            fd = next_fd
        if source.is_dir() and not source.is_symlink():
            return _copy_tree_in(source, fd)
        return _copy_file_in(source, fd, source.name)
    finally:
        os.close(fd)


def _copy_tree_in(source: Path, dir_fd: int) -> int:
    total = 0
    for entry in os.scandir(source):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            child = _ensure_dir(dir_fd, entry.name)
            try:
                total += _copy_tree_in(Path(entry.path), child)
            finally:
                os.close(child)
        elif entry.is_file():
            total += _copy_file_in(Path(entry.path), dir_fd, entry.name)
    return total


def _copy_file_in(source: Path, dir_fd: int, name: str) -> int:
    try:
        existing = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISDIR(existing.st_mode):
            os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    out = os.open(name, flags, 0o644, dir_fd=dir_fd)
    total = 0
    try:
        with open(source, "rb") as src:
            while chunk := src.read(_CHUNK):
                total += os.write(out, chunk)
        os.fchown(out, WORKLOAD_UID, WORKLOAD_UID)
    finally:
        os.close(out)
    return total


@dataclass(frozen=True)
class CopyLimits:
    """Bounds of one copy of a candidate tree."""

    total: int  # bytes in all
    per_file: int | None = None  # bytes of one file; None: only the total bounds it
    files: int = MAX_FILES
    depth: int = MAX_DEPTH
    path: int = MAX_PATH


@dataclass
class Manifest:
    """What a copy copied and what it left out (and why)."""

    files: list[str] = field(default_factory=list)
    bytes: int = 0
    skipped: list[dict] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, path: str, reason: str) -> None:
        """Note a path left out (the first MAX_SKIPPED are listed; all are counted)."""
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED:
            self.skipped.append({"path": path, "reason": reason})


# exclude(rel, name, depth) -> True to leave an entry out silently; refuse(rel, stat) -> a reason to skip a file.
Exclude = Callable[[str, str, int], bool]
Refuse = Callable[[str, os.stat_result], "str | None"]


def copy_tree(src_fd: int, dest: Path, limits: CopyLimits, exclude: Exclude | None = None,
              refuse: Refuse | None = None) -> Manifest:
    """Copy the directory open at `src_fd` (the caller keeps it) into `dest` (created) within `limits`.

    Walks with an explicit stack (one open descriptor per level, at most `limits.depth`), never
    follows a link, copies only regular files and folders. Returns the manifest; raises only
    for `dest` itself not being creatable.
    """
    dest.mkdir(parents=True, exist_ok=True)
    manifest = Manifest()
    out_root = os.open(dest, _DIR_FLAGS)
    stack = [(src_fd, out_root, "", 0, iter(sorted(os.listdir(src_fd))))]
    try:
        while stack:
            src, out, prefix, depth, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                _close(out, *([src] if depth else []))
                continue
            rel = prefix + name
            if exclude is not None and exclude(rel, name, depth):
                continue
            frame = _copy_entry(src, out, name, rel, depth, limits, manifest, refuse)
            if frame is not None:
                stack.append(frame)
    finally:
        for src, out, _prefix, depth, _names in stack:
            _close(out, *([src] if depth else []))
    return manifest


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


def _copy_entry(src: int, out: int, name: str, rel: str, depth: int, limits: CopyLimits, manifest: Manifest,
                refuse: Refuse | None):
    """Copy one entry; a new stack frame for a folder to descend into, else None."""
    if len(rel) > limits.path:
        manifest.skip(rel[:200] + "...", f"path longer than {limits.path} characters")
        return None
    try:
        st = os.stat(name, dir_fd=src, follow_symlinks=False)
    except FileNotFoundError:
        return None  # deleted meanwhile
    if stat.S_ISREG(st.st_mode):
        _copy_file(src, out, name, rel, st, limits, manifest, refuse)
    elif not stat.S_ISDIR(st.st_mode):
        manifest.skip(rel, "not a regular file or folder (link, fifo, socket or device)")
    elif depth + 1 > limits.depth:
        manifest.skip(rel, f"deeper than {limits.depth} folders")
    else:
        return _open_frame(src, out, name, rel, depth, manifest)
    return None


def _open_frame(src: int, out: int, name: str, rel: str, depth: int, manifest: Manifest):
    try:
        sub = os.open(name, _DIR_FLAGS, dir_fd=src)
    except OSError:
        manifest.skip(rel, "could not be opened as a folder (replaced by a link?)")
        return None
    try:
        os.mkdir(name, 0o755, dir_fd=out)
    except FileExistsError:
        pass
    except OSError as exc:
        os.close(sub)
        manifest.skip(rel, f"could not be created ({exc.strerror})")
        return None
    try:
        sub_out = os.open(name, _DIR_FLAGS, dir_fd=out)
        names = iter(sorted(os.listdir(sub)))
    except OSError as exc:
        os.close(sub)
        manifest.skip(rel, f"could not be read ({exc.strerror})")
        return None
    return sub, sub_out, rel + "/", depth + 1, names


def _copy_file(src: int, out: int, name: str, rel: str, st: os.stat_result, limits: CopyLimits,
               manifest: Manifest, refuse: Refuse | None, out_name: str | None = None) -> None:
    reason = refuse(rel, st) if refuse is not None else None
    if reason:
        return manifest.skip(rel, reason)
    if limits.per_file is not None and st.st_size > limits.per_file:
        return manifest.skip(rel, f"larger than {limits.per_file // 1024**2} MiB")
    if manifest.bytes + st.st_size > limits.total:
        return manifest.skip(rel, f"over the copy's size cap ({limits.total // 1024**2} MiB)")
    if len(manifest.files) >= limits.files:
        return manifest.skip(rel, f"over the copy's cap of {limits.files} files")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=src)
    except OSError:
        return manifest.skip(rel, "could not be opened")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
            return manifest.skip(rel, "not a regular file")
        cap = min(limits.per_file or limits.total, limits.total - manifest.bytes)  # a file still growing
        copied = _copy_bytes(fd, out, out_name or name, cap)
    except OSError as exc:
        return manifest.skip(rel, f"could not be copied ({exc.strerror})")
    finally:
        os.close(fd)
    manifest.files.append(rel)
    manifest.bytes += copied


def _copy_bytes(fd: int, out_dir: int, name: str, cap: int) -> int:
    total = 0
    out = os.open(name, _NEW_FILE_FLAGS, 0o644, dir_fd=out_dir)
    try:
        while total < cap:
            chunk = os.read(fd, min(_CHUNK, cap - total))
            if not chunk:
                break
            while chunk:  # os.write may write less than asked
                written = os.write(out, chunk)
                chunk = chunk[written:]
                total += written
    finally:
        os.close(out)
    return total


def copy_out(source: tuple[Path, tuple[str, ...]], dest: Path, max_bytes: int) -> list[str]:
    """Copy a workspace file or folder to `dest` on the host, at most `max_bytes` in total.

    Returns the relative paths skipped (links, devices, FIFOs, anything past a bound of
    `copy_tree`). Raises CopyError if the source is missing or itself a link.
    """
    workspace, parts = source
    fd = os.open(workspace, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            next_fd = _open_dir(fd, part)
            os.close(fd)
            fd = next_fd
        name = parts[-1] if parts else "."
        mode = _lstat_mode(fd, name)
        if stat.S_ISDIR(mode):
            child = _open_dir(fd, name)
            try:
                manifest = copy_tree(child, dest, CopyLimits(total=max_bytes))
            finally:
                os.close(child)
        elif stat.S_ISREG(mode):
            manifest = _copy_one(fd, name, dest, max_bytes)
        else:
            raise CopyError(f"/workspace/{'/'.join(parts)}: not a regular file or directory")
    finally:
        os.close(fd)
    return [item["path"] for item in manifest.skipped]


def _copy_one(dir_fd: int, name: str, dest: Path, max_bytes: int) -> Manifest:
    """Copy the single file `name` (in `dir_fd`) to the host path `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    manifest = Manifest()
    out = os.open(dest.parent, _DIR_FLAGS)
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        _copy_file(dir_fd, out, name, name, st, CopyLimits(total=max_bytes), manifest, None, out_name=dest.name)
    finally:
        os.close(out)
    return manifest


def _lstat_mode(dir_fd: int, name: str) -> int:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        raise CopyError(f"{name}: not found in the workspace") from None


def _open_dir(parent: int, name: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        raise CopyError(f"{name}: not a directory in the workspace ({exc.strerror})") from None
