"""Build the task's notebooks from their readable sources in tools/notebooks/.

    python tasks/churn-model/tools/build_notebooks.py

Each source is a Python file in "percent" format: a cell starts with `# %%`
(code) or `# %% [markdown]` (markdown, each line prefixed with `# `). The built
notebooks (nbformat 4.5, no outputs) are committed; edit the sources and
rebuild rather than editing the .ipynb files by hand.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "notebooks"
ENTRYPOINT = "churn.ipynb"
TARGETS = {"starter.py": f"starter/{ENTRYPOINT}", "solution.py": f"solution/{ENTRYPOINT}",
           **{f"{name}.py": f"baselines/{name}/{ENTRYPOINT}" for name in
              ("leaky", "random_split", "majority_class", "no_imbalance_handling", "overfit")}}


def parse_cells(text: str) -> list[tuple[str, str]]:
    """(cell_type, source) pairs from percent-format text."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            out.append((kind, source))
    return out


def notebook(cells: list[tuple[str, str]], name: str) -> dict:
    """An nbformat 4.5 notebook dict with stable cell ids and no outputs."""
    nb_cells = []
    for i, (kind, source) in enumerate(cells):
        cell = {"cell_type": kind, "id": hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8], "metadata": {},
                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    return {"cells": nb_cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def main() -> None:
    """Build every notebook in TARGETS."""
    for source, target in TARGETS.items():
        text = (SOURCES / source).read_text(encoding="utf-8")
        path = TASK_DIR / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook(parse_cells(text), target), indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        print(f"built {target}")


if __name__ == "__main__":
    main()
