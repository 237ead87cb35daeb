"""Build the sandbox images, skipping every image whose tag already exists."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import tarfile
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from worksample.errors import WorksampleError
from worksample.images import engine, rootfs, wheelhouse
from worksample.images.refs import (
    base_override_path, context_files, hash_chain, read_base_override, rootfs_ref,
)
from worksample.images.specs import ROOTFS, ImageSpec, Layout, image_names, lineage

_CHANGED = "its input files changed during the build; run `worksample images build` again"
DEBOOTSTRAP = "debootstrap"  # the --base value that goes back to our own rootfs


@dataclass
class BuildResult:
    """What happened to one image in a build run."""

    name: str
    ref: str
    built: bool
    seconds: float
    size: int

    def line(self) -> str:
        """One progress line, e.g. `notebook  worksample/notebook:ab12  built in 80.1 s (1.2 GB)`."""
        status = f"built in {self.seconds:.1f} s" if self.built else "up to date"
        return f"{self.name:<9} {self.ref:<32} {status} ({self.size / 1e9:.2f} GB)"


@contextmanager
def _build_lock(layout: Layout) -> Iterator[None]:
    """One build at a time per data dir: parallel `make` runs must not race."""
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    with open(layout.state_dir / "build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def set_base(layout: Layout, client, base_image: str | None) -> None:
    """Record `--base IMAGE` (sticky for later builds and lookups), or clear it.

    An image the engine lacks is pulled from its registry once, here; it is
    never pulled again at build or run time.
    """
    path = base_override_path(layout)
    if base_image is None:
        return
    if base_image == DEBOOTSTRAP:
        path.unlink(missing_ok=True)
        return
    found = engine.image_id(client, base_image) or engine.pull(client, base_image)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"image": base_image, "id": found}))


def build_images(
    names: list[str] | None = None, *, base_image: str | None = None, layout: Layout | None = None,
    client=None, labels: dict[str, str] | None = None, echo: Callable[[str], None] = print,
) -> list[BuildResult]:
    """Build the named images (default all) and their parents; return what happened.

    `labels` go on the short-lived containers a build runs (tests mark theirs).
    Raises DockerUnavailable, ImageSpecError, RootfsUnavailable,
    WheelhouseError or ImageBuildFailed, each as one line.
    """
    layout = layout or Layout.default()
    own = engine.connect(client)
    run = _Run(layout, own, labels or {}, echo)
    try:
        with _build_lock(layout):
            set_base(layout, own, base_image)
            for name in names or image_names(layout):
                for spec in lineage(layout, name):
                    run.ensure(spec)
    finally:
        if client is None:
            own.close()
    return run.results


class _Run:
    """State of one build run: refs already handled and Python probes done."""

    def __init__(self, layout: Layout, client, labels: dict[str, str], echo: Callable[[str], None]):
        self.layout, self.client, self.labels, self.echo = layout, client, labels, echo
        self.results: list[BuildResult] = []
        self.probes: dict[str, dict] = {}

    def ensure(self, spec: ImageSpec) -> None:
        """Build one image unless it exists; its parents are already handled."""
        if any(r.name == spec.name for r in self.results):
            return
        full = hash_chain(self.layout, spec.name)
        ref = f"{self.layout.prefix}/{spec.name}:{full[spec.name][:12]}"
        start = time.monotonic()
        built = not engine.image_exists(self.client, ref)
        if built:
            self._build(spec, ref, full[spec.name], self._parent_ref(spec, full))
        result = BuildResult(spec.name, ref, built, time.monotonic() - start, engine.image_size(self.client, ref))
        self.results.append(result)
        self.echo(result.line())

    def _parent_ref(self, spec: ImageSpec, full: dict[str, str]) -> str:
        if spec.parent != ROOTFS:
            ref = f"{self.layout.prefix}/{spec.parent}:{full[spec.parent][:12]}"
            if not engine.image_exists(self.client, ref):
                raise engine.ImageBuildFailed(f"{spec.parent}: {_CHANGED}")
            return ref
        ref = rootfs_ref(self.layout, spec)
        if read_base_override(self.layout) is None and not engine.image_exists(self.client, ref):
            start = time.monotonic()
            rootfs.make_rootfs(self.layout, spec, ref, self.client)
            self.echo(f"{ROOTFS:<9} {ref:<32} debootstrapped in {time.monotonic() - start:.1f} s")
        elif not engine.image_exists(self.client, ref):
            raise WorksampleError(f"--base image {ref} is gone from the engine; pull it or run with --base {DEBOOTSTRAP}")
        return ref

    def _build(self, spec: ImageSpec, ref: str, full_hash: str, parent: str) -> None:
        """1. wheels for the parent's Python; 2. a tar context; 3. docker build."""
        wheels = None
        spec.pins()  # an unpinned line fails here, before any download
        if spec.requirements is not None:
            wheels = wheelhouse.ensure(self.layout, spec, self._probe(parent))
        log_path = self.layout.state_dir / "logs" / f"build-{spec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        labels = {"worksample.image": spec.name, "worksample.hash": full_hash}
        if wheels is not None:
            # Traceability: which wheel files went in (they follow from the pins).
            names = "\n".join(sorted(w.name for w in wheels.glob("*.whl")))
            labels["worksample.wheels"] = hashlib.sha256(names.encode()).hexdigest()[:16]
        with tempfile.TemporaryFile(dir=self.layout.state_dir) as context, log_path.open("w") as log:
            dirs = [t for s, t in spec.sources.items() if (self.layout.repo / s).is_dir()]
            write_context(context, context_files(self.layout, spec), wheels, dirs, spec.dockerfile())
            # The tag must describe what went into the context: refuse if an
            # input was edited between hashing and reading it.
            if hash_chain(self.layout, spec.name)[spec.name] != full_hash:
                raise engine.ImageBuildFailed(f"{spec.name}: {_CHANGED}")
            context.seek(0)
            engine.build(self.client, context, ref, {"PARENT": parent}, labels, log)

    def _probe(self, parent: str) -> dict:
        if parent not in self.probes:
            self.probes[parent] = engine.probe_python(self.client, parent, {**self.labels, "worksample.image": "probe"})
        return self.probes[parent]


def write_context(fileobj, files: list[tuple[str, Path]], wheels: Path | None, dirs: list[str] = (),
                  dockerfile: bytes | None = None) -> None:
    """Write a build context tar: the image's files, its sources, and `wheels/`.

    Owners and times are normalized so the same inputs give the same context.
    `dirs` are folders that must exist even when empty (COPY fails otherwise).
    `dockerfile`, when given, is written as `Dockerfile` instead of the folder's own.
    """
    entries = list(files)
    if wheels is not None:
        entries += [(f"wheels/{w.name}", w) for w in sorted(wheels.glob("*.whl"))]
    with tarfile.open(fileobj=fileobj, mode="w") as tar:
        for folder in [*dirs, *([] if wheels else ["wheels"])]:
            # Empty folders keep Dockerfiles uniform (no wheels, no sources yet).
            info = tarfile.TarInfo(folder.rstrip("/") + "/")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        if dockerfile is not None:
            entries = [(name, path) for name, path in entries if name != "Dockerfile"]
            info = tarfile.TarInfo("Dockerfile")
            info.size, info.mode, info.uname, info.gname = len(dockerfile), 0o644, "root", "root"
            tar.addfile(info, io.BytesIO(dockerfile))
        for arcname, path in entries:
            info = tar.gettarinfo(str(path), arcname)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            info.mode = 0o755 if info.mode & 0o111 else 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)


def prune_images(*, layout: Layout | None = None, client=None, echo: Callable[[str], None] = print) -> list[str]:
    """Untag our images whose tag no longer matches the current inputs; return the tags removed.

    Only the repositories of this layout's images (and rootfs) are touched.
    Every input change leaves the previous tag behind; this reclaims them.
    Tags still used by a container are kept (the engine refuses with 409).
    """
    layout = layout or Layout.default()
    own = engine.connect(client)
    try:
        current = {f"{layout.prefix}/{name}:{hash_chain(layout, name)[name][:12]}" for name in image_names(layout)}
        for name in image_names(layout):
            spec = lineage(layout, name)[0]
            if spec.parent == ROOTFS:
                current.add(rootfs_ref(layout, spec))
        ours = {f"{layout.prefix}/{name}" for name in [*image_names(layout), ROOTFS]}
        removed = []
        for tag in engine.tags_with_prefix(own, layout.prefix):
            if tag.rsplit(":", 1)[0] in ours and tag not in current and engine.untag(own, tag):
                removed.append(tag)
                echo(f"removed {tag}")
        return removed
    finally:
        if client is None:
            own.close()
