"""`worksample images`: build the sandbox images offline, show their tags."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(no_args_is_help=True, help="Build the sandbox images (no container registry needed)")


@app.command("build")
def build(
    base: Optional[str] = typer.Option(
        None, "--base", metavar="IMAGE",
        help="Build FROM this local image (glibc, python3 with venv; the pins are for 3.13) instead of "
        "a debootstrapped Debian trixie; remembered for later builds. `--base debootstrap` goes back.",
    ),
    only: Optional[list[str]] = typer.Option(None, "--only", metavar="NAME", help="Build only this image (and its parents); repeatable"),
) -> None:
    """Build every image under sandbox_images/ whose inputs changed; one line per image."""
    from worksample.errors import UsageError
    from worksample.images.builder import build_images
    from worksample.images.specs import Layout, image_names

    known = image_names(Layout.default())
    unknown = [name for name in only or [] if name not in known]
    if unknown:
        raise UsageError(f"--only {unknown[0]}: no such image; known: {', '.join(known)}")
    start = time.monotonic()
    results = build_images(only or None, base_image=base)
    built = sum(r.built for r in results)
    typer.echo(f"{built} built, {len(results) - built} up to date in {time.monotonic() - start:.1f} s")


@app.command("list")
def list_images() -> None:
    """Print each image's tag for the current inputs (no Docker needed)."""
    from worksample.images import image_ref
    from worksample.images.specs import Layout, image_names

    for name in image_names(Layout.default()):
        typer.echo(f"{name:<9} {image_ref(name)}")


@app.command("prune")
def prune() -> None:
    """Remove image tags left behind by earlier inputs (tags in use by a container stay)."""
    from worksample.images.builder import prune_images

    removed = prune_images(echo=typer.echo)
    typer.echo(f"{len(removed)} old tag(s) removed")


@app.command("lock")
def lock(name: str = typer.Argument(..., help="Image folder with a requirements.in")) -> None:
    """Resolve sandbox_images/NAME/requirements.in into exact pins in requirements.txt.

    Pins are resolved for the Python of the image's parent (built if needed).
    """
    from worksample.images.builder import build_images
    from worksample.images import engine, wheelhouse
    from worksample.images.specs import Layout, load_spec

    layout = Layout.default()
    spec = load_spec(layout, name)
    source = spec.folder / "requirements.in"
    if not source.is_file():
        raise typer.BadParameter(f"{source}: missing", param_hint="NAME")
    parent = [r for r in build_images([spec.parent]) if r.name == spec.parent][0].ref
    probe = engine.probe_python(engine.connect(), parent, {"worksample.image": "probe"})
    target = spec.requirements or spec.folder / "requirements.txt"
    pins = wheelhouse.lock(source, Path(target), probe, layout.state_dir / "logs" / f"lock-{name}.log")
    typer.echo(f"{target}: {len(pins)} pins for CPython {probe['version']}")
