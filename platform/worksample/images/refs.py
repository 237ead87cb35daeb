"""Image tags from a content hash of their inputs, computed without Docker.

A tag is `<prefix>/<name>:<hash12>`. The hash covers the image folder (the
Dockerfile, manifest, pinned requirements, anything else there), the shared
install stage for an image with requirements, the files
copied in from the repository, and the parent's hash; the base's parent is
the rootfs recipe (suite, mirror, package list) or the `--base` image's id.
The wheels are fixed by the exact pins plus the parent's Python, so the
wheelhouse's file list follows from these inputs (the builder checks it).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from worksample.images.specs import INSTALL_STAGE, ROOTFS, ImageSpec, Layout, lineage

# Bump when the way images are made changes without any input file changing.
RECIPE_VERSION = "1"
SUITE = "trixie"
MIRROR = "http://deb.debian.org/debian"
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def walk(path: Path) -> list[Path]:
    """Files under `path` (or `path` itself), sorted, without caches."""
    if path.is_file():
        return [path]
    return sorted(
        p for p in path.rglob("*")
        if p.is_file() and not _SKIP_PARTS.intersection(p.parts) and p.suffix != ".pyc"
    )


def context_files(layout: Layout, spec: ImageSpec) -> list[tuple[str, Path]]:
    """Every (build context path, host file) an image is made from."""
    files = [(p.relative_to(spec.folder).as_posix(), p) for p in walk(spec.folder)]
    if spec.install_stage is not None:
        files.append((INSTALL_STAGE, spec.install_stage))
    for source, target in sorted(spec.sources.items()):
        origin = layout.repo / source
        for path in walk(origin):
            rel = path.relative_to(origin).as_posix() if origin.is_dir() else ""
            files.append(((Path(target) / rel).as_posix() if rel else target, path))
    return files


def base_override_path(layout: Layout) -> Path:
    """Where a `--base IMAGE` build records its choice for later lookups."""
    return layout.state_dir / "base.json"


def read_base_override(layout: Layout) -> dict | None:
    """The recorded `--base` choice, {"image", "id"}, or None for debootstrap."""
    try:
        return json.loads(base_override_path(layout).read_text())
    except FileNotFoundError:
        return None


def rootfs_hash(spec: ImageSpec) -> str:
    """Hash of the debootstrap recipe for the image whose parent is rootfs."""
    packages = spec.folder / "packages.txt"
    digest = hashlib.sha256(f"rootfs\0{RECIPE_VERSION}\0{SUITE}\0{MIRROR}\0".encode())
    digest.update(packages.read_bytes() if packages.is_file() else b"")
    return digest.hexdigest()


def rootfs_ref(layout: Layout, spec: ImageSpec) -> str:
    """The image the base is built FROM: our rootfs tag or the --base image."""
    override = read_base_override(layout)
    if override:
        return override["image"]
    return f"{layout.prefix}/{ROOTFS}:{rootfs_hash(spec)[:12]}"


def _parent_identity(layout: Layout, spec: ImageSpec, parent_hash: str | None) -> str:
    if spec.parent != ROOTFS:
        return parent_hash or ""
    override = read_base_override(layout)
    return f"image:{override['id']}" if override else f"rootfs:{rootfs_hash(spec)}"


def hash_chain(layout: Layout, name: str) -> dict[str, str]:
    """Full content hashes of the image and its ancestors, by name."""
    hashes: dict[str, str] = {}
    parent_hash = None
    for spec in lineage(layout, name):
        digest = hashlib.sha256(f"image\0{RECIPE_VERSION}\0{spec.name}\0".encode())
        digest.update(_parent_identity(layout, spec, parent_hash).encode() + b"\0")
        for rel, path in context_files(layout, spec):
            digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        parent_hash = hashes[spec.name] = digest.hexdigest()
    return hashes


def compute_ref(layout: Layout, name: str) -> str:
    """The tag `<prefix>/<name>:<hash12>` for the current inputs."""
    return f"{layout.prefix}/{name}:{hash_chain(layout, name)[name][:12]}"


def _signature(layout: Layout, name: str) -> tuple:
    """Cheap stand-in for the inputs: every input file's path, mtime and size."""
    entries = []
    for spec in lineage(layout, name):
        for _, path in context_files(layout, spec):
            st = path.stat()
            entries.append((str(path), st.st_mtime_ns, st.st_size))
    state = base_override_path(layout)
    entries.append(state.stat().st_mtime_ns if state.exists() else None)
    return tuple(entries)


@lru_cache(maxsize=64)
def _cached_ref(layout: Layout, name: str, signature: tuple) -> str:
    return compute_ref(layout, name)


def cached_ref(layout: Layout, name: str) -> str:
    """`compute_ref`, re-hashing only when an input file's stat changed."""
    return _cached_ref(layout, name, _signature(layout, name))
