"""Build the refund-agent notebooks from their readable sources.

    python tasks/refund-agent/tools/build_notebooks.py

The starter and the reference are percent-format sources in tools/notebooks/. Each
baseline is the reference with a few named edits (tools/baselines.py), so a baseline
differs from the reference exactly in the weakness it is named after. The cell format
and notebook writer are the flagship task's (support-ticket-triage/tools/build_notebooks.py).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
TASK_DIR = TOOLS.parent
ENTRY = "refund_agent.ipynb"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cells = _load(TASK_DIR.parent / "support-ticket-triage" / "tools" / "build_notebooks.py", "_triage_build_notebooks")
sys.path.insert(0, str(TOOLS))
from baselines import BASELINES  # noqa: E402


def patched(source: str, edits: list[tuple[str, str]], name: str) -> str:
    """The reference source with each (old, new) edit applied; every `old` must occur exactly once."""
    for old, new in edits:
        if source.count(old) != 1:
            raise SystemExit(f"baseline {name}: edit target found {source.count(old)} times: {old[:60]!r}")
        source = source.replace(old, new)
    return source


def sources() -> dict[str, str]:
    """Notebook path (relative to the task) → percent-format source."""
    solution = (TOOLS / "notebooks" / "solution.py").read_text(encoding="utf-8")
    out = {f"starter/{ENTRY}": (TOOLS / "notebooks" / "starter.py").read_text(encoding="utf-8"),
           f"solution/{ENTRY}": solution}
    for name, spec in BASELINES.items():
        out[f"baselines/{name}/{ENTRY}"] = patched(solution, spec["edits"], name)
    return out


def main() -> None:
    """Write every notebook and each baseline's baseline.yaml."""
    for rel, text in sources().items():
        path = TASK_DIR / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = cells.notebook(cells.parse_cells(text), rel)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"built {rel}")
    for name, spec in BASELINES.items():
        lines = [f"# Built by tools/build_notebooks.py from tools/baselines.py: edit there.",
                 f"description: {json.dumps(spec['description'])}", f"symptom: {json.dumps(spec['symptom'])}",
                 f"expect_fail: [{', '.join(spec['expect_fail'])}]"]
        (TASK_DIR / "baselines" / name / "baseline.yaml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
