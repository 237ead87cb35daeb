"""Workspace disk quota: a sparse ext4 image per attempt, loop-mounted on the host.

The mounted directory is bind-mounted into the pod at `/workspace`. Writes past
the image's size fail with ENOSPC inside the sandbox, the host's own disk only
ever sees the (sparse) image grow up to its size, and the files outlive the
container: unmounting keeps the image, mounting it again brings the work back.
Docker's local volume driver refused `o=loop`, hence doing it here.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from worksample.errors import InfrastructureError
from worksample.sandbox.spec import WORKLOAD_UID


class QuotaError(InfrastructureError):
    """The workspace image could not be made or mounted."""


@dataclass(frozen=True)
class Workspace:
    """A quota'd workspace: `image` (the ext4 file) mounted at `path` while in use."""

    image: Path
    path: Path

    @property
    def mounted(self) -> bool:
        """True while the image is mounted at `path`."""
        return os.path.ismount(self.path)


def open_workspace(image: Path, path: Path, size: int, uid: int = WORKLOAD_UID) -> Workspace:
    """Create the ext4 image if missing (owned by `uid`), mount it at `path`, return it.

    Idempotent: an image that is already mounted there is returned as is. Raises
    QuotaError (one line, with the reason) if not root or the tools fail.
    """
    workspace = Workspace(image=Path(image), path=Path(path))
    if workspace.mounted:
        return workspace
    if os.geteuid() != 0:
        raise QuotaError("workspace quota needs root (loop-mounting an ext4 image); run the platform as root")
    workspace.image.parent.mkdir(parents=True, exist_ok=True)
    workspace.path.mkdir(parents=True, exist_ok=True)
    if not workspace.image.exists():
        _make_image(workspace.image, size, uid)
    _run(["mount", "-o", "loop,nosuid,nodev,noatime", str(workspace.image), str(workspace.path)], "mount workspace")
    return workspace


def _make_image(image: Path, size: int, uid: int) -> None:
    partial = image.with_suffix(".partial")
    with open(partial, "wb") as fh:
        fh.truncate(size)  # sparse: costs host disk only as the candidate writes
    # -m 0: no blocks reserved for root (the quota is the candidate's); lazy init keeps mkfs ~50 ms.
    _run(
        ["mkfs.ext4", "-q", "-F", "-m", "0", "-E",
         f"root_owner={uid}:{uid},lazy_itable_init=1,lazy_journal_init=1,nodiscard", str(partial)],
        "make workspace filesystem",
    )
    partial.rename(image)


def close_workspace(workspace: Workspace, delete: bool = False) -> None:
    """Unmount the workspace (the image and its files stay unless `delete`)."""
    if workspace.mounted:
        result = subprocess.run(["umount", str(workspace.path)], capture_output=True, text=True)
        if result.returncode != 0:
            # Something still holds it (a late exec); detach lazily so teardown never hangs.
            _run(["umount", "-l", str(workspace.path)], "unmount workspace")
    if delete:
        workspace.image.unlink(missing_ok=True)
        try:
            workspace.path.rmdir()
        except FileNotFoundError:
            pass


def mount_tmpfs(path: Path, size: int, uid: int = WORKLOAD_UID, inodes: int = 4096) -> None:
    """Mount a tmpfs of `size` bytes and `inodes` files at `path` (an existing dir), owned by `uid`, mode 0700.

    For the pod's ipc dir: the sandbox writes there, so it needs a quota of its
    own (writes past it fail with ENOSPC); the host reaches the sockets in it
    through the same path. Raises QuotaError if not root or mount fails.
    """
    if os.geteuid() != 0:
        raise QuotaError("the ipc dir quota needs root (mounting a tmpfs); run the platform as root")
    options = f"size={size},nr_inodes={inodes},mode=0700,uid={uid},gid={uid},nosuid,nodev,noexec"
    _run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], "mount the ipc dir")


def unmount(path: Path) -> None:
    """Unmount whatever is mounted at `path` (lazily if busy); nothing when nothing is mounted."""
    if not os.path.ismount(path):
        return
    result = subprocess.run(["umount", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        _run(["umount", "-l", str(path)], f"unmount {path}")


def prepare_layout(workspace: Workspace, uid: int = WORKLOAD_UID, with_data: bool = False) -> None:
    """Make the dirs the sandbox expects (`outputs/`, `data/` mount point) and drop `lost+found`."""
    lost = workspace.path / "lost+found"
    if lost.is_dir() and not any(lost.iterdir()):
        lost.rmdir()
    names = ["outputs"] + (["data"] if with_data else [])
    for name in names:
        target = workspace.path / name
        if not target.is_symlink():
            target.mkdir(exist_ok=True)
            os.chown(target, uid, uid)


def _run(cmd: list[str], what: str) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise QuotaError(f"cannot {what}: `{cmd[0]}` is not installed (apt-get install e2fsprogs mount)") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise QuotaError(f"cannot {what}: {' '.join(cmd)}: {detail[-1] if detail else 'exit ' + str(result.returncode)}")
