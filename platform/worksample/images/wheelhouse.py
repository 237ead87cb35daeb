"""Wheels for an image's own Python, downloaded on the host.

The image build has no network: `pip download` on the host fetches binary
wheels for the interpreter, C library and architecture found in the parent
image, into `<data dir>/wheelhouse/<image>/<key>/`, and the Dockerfile
installs from there with `--no-index`.

The host's pip configuration is ignored on purpose (`PIP_CONFIG_FILE` set to
the null device, every other `PIP_*` variable dropped): a machine-wide
constraint file or extra index must not change what goes into an image, and
a fresh machine has no such configuration anyway.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from worksample.errors import WorksampleError
from worksample.images.specs import ImageSpec, Layout, normalize, read_pins

INDEX_URL = "https://pypi.org/simple"


class WheelhouseError(WorksampleError):
    """Wheels for an image could not be downloaded or do not match its pins."""


def pip_target(probe: dict) -> list[str]:
    """`pip download` flags selecting wheels for the probed interpreter."""
    major, minor = probe["version"].split(".")[:2]
    tag = f"cp{major}{minor}"
    machine = probe["machine"]
    flags = ["--only-binary=:all:", "--python-version", f"{major}.{minor}", "--implementation", "cp",
             "--abi", tag, "--abi", "abi3", "--abi", "none"]
    libc, libc_version = probe["libc"]
    if libc != "glibc":
        raise WheelhouseError(f"the image's C library is {libc or 'unknown'}; only glibc images are supported")
    glibc_minor = int(libc_version.split(".")[1])
    # Every manylinux tag this glibc can load, plus the legacy aliases.
    platforms = [f"manylinux_2_{m}_{machine}" for m in range(glibc_minor, 4, -1)]
    platforms += [f"manylinux2014_{machine}", f"manylinux2010_{machine}", f"manylinux1_{machine}", "any"]
    for platform in platforms:
        flags += ["--platform", platform]
    return flags


def pip_env() -> dict[str, str]:
    """The environment for host pip: no config files, no PIP_* overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def download(requirements: Path, dest: Path, probe: dict, log: Path) -> None:
    """`pip download` the requirements (with dependencies) as wheels into dest."""
    cmd = [sys.executable, "-m", "pip", "download", "--index-url", INDEX_URL, "--progress-bar", "off",
           *pip_target(probe), "-d", str(dest), "-r", str(requirements)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=pip_env(), stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        errors = [ln for ln in log.read_text().splitlines() if ln.startswith("ERROR")] or ["see the log"]
        raise WheelhouseError(f"pip download for {requirements} failed: {errors[0]} (log: {log})")


def wheel_pins(folder: Path) -> dict[str, str]:
    """{normalized name: version} of the wheels in a folder."""
    pins = {}
    for wheel in folder.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        pins[normalize(name)] = version
    return pins


def check_complete(requirements: Path, folder: Path) -> None:
    """Raise unless the wheels are exactly the pinned set (nothing unpinned pulled in)."""
    pinned, got = read_pins(requirements), wheel_pins(folder)
    unpinned = sorted(set(got) - set(pinned))
    if unpinned:
        needed = ", ".join(f"{n}=={got[n]}" for n in unpinned)
        raise WheelhouseError(f"{requirements}: not fully pinned; dependencies also need: {needed}")


def ensure(layout: Layout, spec: ImageSpec, probe: dict) -> Path:
    """The wheelhouse folder for this image and interpreter, downloading once.

    Keyed by the requirements' content and the probed interpreter, so a
    changed pin or a new base gets a fresh folder; a finished folder has a
    `.complete` marker and is reused as is.
    """
    assert spec.requirements is not None
    key = hashlib.sha256(spec.requirements.read_bytes() + repr(sorted(probe.items())).encode()).hexdigest()[:16]
    folder = layout.wheelhouse_dir / spec.name / key
    if (folder / ".complete").exists():
        return folder
    partial = folder.with_name(key + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    download(spec.requirements, partial, probe, layout.state_dir / "logs" / f"wheels-{spec.name}.log")
    check_complete(spec.requirements, partial)
    (partial / ".complete").write_text("")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def lock(requirements_in: Path, requirements_txt: Path, probe: dict, log: Path) -> dict[str, str]:
    """Resolve top-level requirements for the image's Python into exact pins.

    Writes `requirements.txt` with one `name==version` per wheel the
    resolver chose and returns the pins.
    """
    scratch = log.parent / f"lock-{requirements_in.parent.name}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        download(requirements_in, scratch, probe, log)
        pins = wheel_pins(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    header = (f"# Generated by `worksample images lock {requirements_in.parent.name}` from requirements.in\n"
              f"# for CPython {probe['version']} ({probe['machine']}, glibc {probe['libc'][1]}). Exact pins only.\n")
    requirements_txt.write_text(header + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    return pins
