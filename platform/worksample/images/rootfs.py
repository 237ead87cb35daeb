"""The Debian root filesystem under every image, made with no registry.

debootstrap --variant=minbase fetches Debian trixie from the package mirror
into a directory, we trim caches and docs, and `docker import` the tarball.
Trixie rather than Debian 12: bookworm's Python is 3.11.2, and the current
releases in our pins refuse it (Requires-Python of the locked wheels:
numpy 2.5.5 and scipy 1.18.1 need >=3.12, soupsieve 4.1.2 >=3.11.5);
trixie ships Python 3.13.5 with cp313 wheels for every pin.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from worksample.errors import WorksampleError
from worksample.images import engine
from worksample.images.refs import MIRROR, SUITE
from worksample.images.specs import ImageSpec, Layout

# Removed before import: nothing in a sandbox reads them, and the apt lists
# alone are ~55 MB. apt stays (harmless without a network).
_TRIM = ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info",
         "usr/share/locale", "var/cache/debconf/templates.dat-old", "var/log")
_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["bash"]',
]


class RootfsUnavailable(WorksampleError):
    """debootstrap cannot run here (missing, not root, mirror unreachable)."""


def packages(spec: ImageSpec) -> list[str]:
    """The extra Debian packages listed in the base folder's packages.txt."""
    path = spec.folder / "packages.txt"
    if not path.is_file():
        return []
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines() if line.split("#", 1)[0].strip()]


def check_prerequisites() -> None:
    """Raise a one-line error when debootstrap cannot run on this machine."""
    if shutil.which("debootstrap") is None:
        raise RootfsUnavailable(
            "debootstrap is not installed: run `apt-get install debootstrap` as root "
            "(or pass --base IMAGE to use an image from a registry)"
        )
    if os.geteuid() != 0:
        raise RootfsUnavailable(
            "building the base image with debootstrap needs root: run `worksample images build` as root "
            "(or pass --base IMAGE to use an image from a registry)"
        )


def make_rootfs(layout: Layout, spec: ImageSpec, ref: str, client) -> None:
    """Debootstrap, trim, tar and import the rootfs as `ref`.

    Steps: 1. debootstrap into a work dir; 2. trim; 3. tar; 4. docker import;
    5. remove the work dir. The .deb cache survives for the next change.
    """
    check_prerequisites()
    work = layout.state_dir / "rootfs-work"
    shutil.rmtree(work, ignore_errors=True)
    target, tarball = work / "root", work / "rootfs.tar"
    cache = layout.state_dir / "debs"
    cache.mkdir(parents=True, exist_ok=True)
    log = layout.state_dir / "logs" / "rootfs.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        _debootstrap(spec, target, cache, log)
        _trim(target)
        _tar(target, tarball, log)
        engine.import_rootfs(client, tarball, ref, _CHANGES)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _debootstrap(spec: ImageSpec, target: Path, cache: Path, log: Path) -> None:
    cmd = ["debootstrap", "--variant=minbase", f"--cache-dir={cache.resolve()}"]
    extra = packages(spec)
    if extra:
        cmd.append("--include=" + ",".join(extra))
    cmd += [SUITE, str(target), MIRROR]
    with log.open("w") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        tail = log.read_text().strip().splitlines()[-1:] or ["no output"]
        raise RootfsUnavailable(f"debootstrap {SUITE} from {MIRROR} failed: {tail[0]} (log: {log})")


def _trim(target: Path) -> None:
    for rel in _TRIM:
        path = target / rel
        if path.is_dir():
            for child in path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        elif path.exists():
            path.unlink()
    # Leave no host identity behind; Docker provides these at run time.
    for rel in ("etc/hostname", "etc/resolv.conf"):
        (target / rel).unlink(missing_ok=True)


def _tar(target: Path, tarball: Path, log: Path) -> None:
    # GNU tar keeps owners, modes, hard links and device nodes exactly.
    cmd = ["tar", "--numeric-owner", "--xattrs", "-C", str(target),
           "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./dev/*", "-cf", str(tarball), "."]
    with log.open("a") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RootfsUnavailable(f"tar of the rootfs failed (log: {log})")
