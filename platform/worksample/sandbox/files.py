"""Copying files into and out of a pod's workspace, host side, without trusting the workspace.

The workspace is written by candidate code, and we act on it as root. So every
step goes through directory file descriptors opened with O_NOFOLLOW: a symlink
the candidate planted (even one swapped in mid-copy) is skipped, never followed,
and nothing outside the workspace is read or written. Copies out are capped.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from worksample.errors import WorksampleError
from worksample.sandbox.spec import WORKLOAD_UID

WORKSPACE = PurePosixPath("/workspace")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1024 * 1024


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


def copy_out(source: tuple[Path, tuple[str, ...]], dest: Path, max_bytes: int) -> list[str]:
    """Copy a workspace file or folder to `dest` on the host, at most `max_bytes` in total.

    Returns the relative paths skipped (symlinks, devices, FIFOs, anything past
    the cap). Raises CopyError if the source is missing or itself a symlink.
    """
    workspace, parts = source
    budget = [max_bytes]
    skipped: list[str] = []
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
                dest.mkdir(parents=True, exist_ok=True)
                _copy_tree_out(child, dest, "", budget, skipped)
            finally:
                os.close(child)
        elif stat.S_ISREG(mode):
            dest.parent.mkdir(parents=True, exist_ok=True)
            _copy_file_out(fd, name, dest, name, budget, skipped)
        else:
            raise CopyError(f"/workspace/{'/'.join(parts)}: not a regular file or directory")
    finally:
        os.close(fd)
    return skipped


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


def _copy_tree_out(dir_fd: int, dest: Path, prefix: str, budget: list[int], skipped: list[str]) -> None:
    for name in sorted(os.listdir(dir_fd)):
        rel = f"{prefix}{name}"
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                skipped.append(rel)  # swapped for a link mid-copy
                continue
            try:
                (dest / name).mkdir(exist_ok=True)
                _copy_tree_out(child, dest / name, rel + "/", budget, skipped)
            finally:
                os.close(child)
        elif stat.S_ISREG(mode):
            _copy_file_out(dir_fd, name, dest / name, rel, budget, skipped)
        else:
            skipped.append(rel)


def _copy_file_out(dir_fd: int, name: str, dest: Path, rel: str, budget: list[int], skipped: list[str]) -> None:
    try:
        # O_NONBLOCK: a FIFO swapped in mid-copy must not hang us; fstat below rejects it.
        src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        skipped.append(rel)
        return
    try:
        info = os.fstat(src)
        if not stat.S_ISREG(info.st_mode) or info.st_size > budget[0]:
            skipped.append(rel)
            return
        with open(dest, "wb") as out:
            while budget[0] > 0 and (chunk := os.read(src, min(_CHUNK, budget[0]))):
                out.write(chunk)
                budget[0] -= len(chunk)
    finally:
        os.close(src)
