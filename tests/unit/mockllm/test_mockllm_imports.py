"""The mockllm image ships this package, its requirements and the SDK files its manifest names: check every import."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "platform" / "worksample" / "mockllm"
REQUIREMENTS = REPO / "sandbox_images" / "mockllm" / "requirements.txt"
MANIFEST = REPO / "sandbox_images" / "mockllm" / "image.toml"
# Import names of the distributions in requirements.txt that the mock imports.
IMPORT_NAMES = {"pyyaml": "yaml", "bpe-openai": "bpe_openai", "pydantic": "pydantic", "uvicorn": "uvicorn",
                "uvloop": "uvloop", "httptools": "httptools"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_requirements_are_pinned() -> None:
    lines = [ln.strip() for ln in REQUIREMENTS.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines and all("==" in ln for ln in lines)
    assert set(IMPORT_NAMES) <= {ln.split("==")[0].lower() for ln in lines}


def shipped_sdk_modules() -> dict[str, Path]:
    """The grading SDK's files the image manifest copies in, by module name."""
    sources = tomllib.loads(MANIFEST.read_text())["sources"]
    return {Path(target).relative_to("src").with_suffix("").as_posix().replace("/", "."): REPO / source
            for source, target in sources.items() if source.startswith("graders/") and source.endswith(".py")}


def test_mockllm_imports_only_stdlib_requirements_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | set(IMPORT_NAMES.values())
    sdk = shipped_sdk_modules()
    assert "worksample_grader.logical" in sdk
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top == "worksample":
                if not module.startswith("worksample.mockllm"):
                    bad.append(f"{path.name}: {module}")
            elif module in sdk:
                continue
            elif top not in allowed:
                bad.append(f"{path.name}: {module}")
    # The SDK files shipped beside it: standard library only (their package __init__ included).
    for module, path in sdk.items():
        bad += [f"{path.name}: {m}" for m in imported_modules(path) if m.split(".")[0] not in sys.stdlib_module_names]
    assert not bad, bad
