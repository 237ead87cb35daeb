"""Build the refund-agent notebooks from their readable sources.

    python tasks/refund-agent/tools/build_notebooks.py

The starter and the reference are percent-format sources in tools/notebooks/. Each
baseline is the reference with a few named edits (tools/baselines.py), so a baseline
differs from the reference exactly in the weakness it is named after. The cell format
and notebook writer: worksample_grader.tasktools.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
TASK_DIR = TOOLS.parent
ENTRY = "refund_agent.ipynb"
sys.path.insert(0, str(TASK_DIR.parents[1] / "graders"))

from worksample_grader.tasktools import load_module, patched, read_source, write_all  # noqa: E402

BASELINES = load_module("tools_refund_agent_baselines", TOOLS / "baselines.py").BASELINES


def sources() -> dict[str, str]:
    """Notebook path (relative to the task) → percent-format source."""
    solution = read_source(TOOLS / "notebooks" / "solution.py")
    out = {f"starter/{ENTRY}": read_source(TOOLS / "notebooks" / "starter.py"),
           f"solution/{ENTRY}": solution}
    for name, spec in BASELINES.items():
        out[f"baselines/{name}/{ENTRY}"] = patched(solution, spec["edits"], name)
    return out


def main() -> None:
    """Write every notebook and each baseline's baseline.yaml."""
    write_all(TASK_DIR, sources())
    for name, spec in BASELINES.items():
        lines = [f"# Built by tools/build_notebooks.py from tools/baselines.py: edit there.",
                 f"description: {json.dumps(spec['description'])}", f"symptom: {json.dumps(spec['symptom'])}",
                 f"expect_fail: [{', '.join(spec['expect_fail'])}]"]
        (TASK_DIR / "baselines" / name / "baseline.yaml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
