"""What the sandbox images are: one folder each under `sandbox_images/`.

Each folder holds a `Dockerfile`, an `image.toml` manifest and, for images
with Python packages, a fully pinned `requirements.txt`:

    parent = "base"                      # another image here, or "rootfs"
    requirements = "requirements.txt"    # optional; installed from a wheelhouse
    [sources]                            # optional; repo path -> build context path
    "graders" = "src"

The parent "rootfs" is the Debian root made by debootstrap (`rootfs.py`),
or the image passed with `--base`.

An image with `requirements` is built from two parts: the install stage
every such image shares (`sandbox_images/install.Dockerfile`: the wheels into
/opt/venv, offline, in a stage named `install`), then its own Dockerfile,
which takes `/opt/venv` from that stage. Both are in its content hash.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from worksample.config import REPO_ROOT, get_settings
from worksample.errors import WorksampleError

ROOTFS = "rootfs"
INSTALL_STAGE = "install.Dockerfile"  # in the images root; goes before the Dockerfile of an image with requirements
# Build order of the images the platform uses; other folders follow by name.
KNOWN_ORDER = ("base", "notebook", "grader", "mockllm")
_MANIFEST_KEYS = {"parent", "requirements", "sources"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([A-Za-z0-9.+!_-]+)$")


class ImageSpecError(WorksampleError):
    """An image folder is malformed; the message names the file and field."""


@dataclass(frozen=True)
class Layout:
    """Where image inputs and build state live; tests point it elsewhere."""

    root: Path
    prefix: str
    data_dir: Path
    repo: Path = REPO_ROOT

    @classmethod
    def default(cls) -> "Layout":
        """The layout from settings: `sandbox_images/` of this checkout."""
        settings = get_settings()
        return cls(REPO_ROOT / "sandbox_images", settings.image_prefix, settings.resolved_data_dir)

    @property
    def state_dir(self) -> Path:
        """Build state: logs, rootfs work dirs, the --base choice."""
        return self.data_dir / "images"

    @property
    def wheelhouse_dir(self) -> Path:
        """Wheels downloaded on the host, one folder per image."""
        return self.data_dir / "wheelhouse"


@dataclass(frozen=True)
class ImageSpec:
    """One image folder, parsed and checked."""

    name: str
    folder: Path
    parent: str
    requirements: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)
    install_stage: Path | None = None  # set exactly when requirements is

    def dockerfile(self) -> bytes:
        """The Dockerfile the engine builds: the shared install stage (with requirements), then the image's own."""
        own = (self.folder / "Dockerfile").read_bytes()
        return self.install_stage.read_bytes() + b"\n" + own if self.install_stage else own

    def pins(self) -> dict[str, str]:
        """The pinned requirements as {normalized name: version}."""
        return read_pins(self.requirements) if self.requirements else {}


def normalize(name: str) -> str:
    """A distribution name in PEP 503 normal form."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """Parse a requirements file where every line is `name==version`.

    Raises ImageSpecError naming the file and line for anything else, because
    an unpinned line would make the image differ from build to build.
    """
    if not path.is_file():
        raise ImageSpecError(f"{path}: missing (the image's manifest names it)")
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line.replace(" ", ""))
        if not match:
            raise ImageSpecError(f"{path}:{number}: '{line}' is not pinned as name==version")
        pins[normalize(match.group(1))] = match.group(3)
    return pins


def load_spec(layout: Layout, name: str) -> ImageSpec:
    """Read and check `<root>/<name>/image.toml`."""
    folder = layout.root / name
    manifest = folder / "image.toml"
    if not (folder / "Dockerfile").is_file():
        raise ImageSpecError(f"{folder / 'Dockerfile'}: missing; known images: {', '.join(image_names(layout))}")
    try:
        data = tomllib.loads(manifest.read_text())
    except FileNotFoundError:
        raise ImageSpecError(f"{manifest}: missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ImageSpecError(f"{manifest}: {exc}") from None
    unknown = set(data) - _MANIFEST_KEYS
    if unknown:
        raise ImageSpecError(f"{manifest}: unknown key(s) {', '.join(sorted(unknown))}")
    parent = data.get("parent")
    if not isinstance(parent, str) or not parent:
        raise ImageSpecError(f"{manifest}: parent: a string is required")
    requirements = data.get("requirements")
    if requirements is not None and not isinstance(requirements, str):
        raise ImageSpecError(f"{manifest}: requirements: must be a file name")
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise ImageSpecError(f"{manifest}: sources: must map repo paths to context paths")
    for source in sources:
        if not (layout.repo / source).exists():
            raise ImageSpecError(f"{manifest}: sources: {layout.repo / source} does not exist")
    install_stage = layout.root / INSTALL_STAGE if requirements else None
    if install_stage is not None and not install_stage.is_file():
        raise ImageSpecError(f"{manifest}: requirements: needs the shared install stage {install_stage} (missing)")
    return ImageSpec(name, folder, parent, folder / requirements if requirements else None, dict(sources),
                     install_stage)


def image_names(layout: Layout) -> list[str]:
    """Every image folder under the root, parents before children."""
    found = sorted(p.name for p in layout.root.iterdir() if (p / "Dockerfile").is_file())
    ordered = [n for n in KNOWN_ORDER if n in found] + [n for n in found if n not in KNOWN_ORDER]
    return ordered


def lineage(layout: Layout, name: str) -> list[ImageSpec]:
    """The image and its ancestors under the root, oldest first."""
    chain: list[ImageSpec] = []
    current = name
    while current != ROOTFS:
        if any(spec.name == current for spec in chain):
            raise ImageSpecError(f"{layout.root / current / 'image.toml'}: parent: cycle through {current}")
        spec = load_spec(layout, current)
        chain.append(spec)
        current = spec.parent
    return list(reversed(chain))
