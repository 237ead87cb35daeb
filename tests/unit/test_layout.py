"""The layout rules of DESIGN §2 and STYLE.md, checked on the source."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "platform" / "worksample"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _importers(module: str) -> set[str]:
    return {str(p.relative_to(PKG)).split("/")[0] for p in PKG.rglob("*.py") if module in _imports(p)}


def test_platform_is_a_source_root_not_a_package():
    assert not (REPO / "platform" / "__init__.py").exists()


def test_only_sandbox_and_images_import_docker():
    assert _importers("docker") <= {"sandbox", "images"}


def test_only_jobs_imports_rq():
    assert _importers("rq") <= {"jobs"}


# What the mock imports (the mockllm image ships its package and named SDK files only) is checked by
# tests/unit/mockllm/test_mockllm_imports.py against the image manifest.
