"""Build the task's notebooks from their readable sources in tools/notebooks/.

    python tasks/support-ticket-triage/tools/build_notebooks.py

Each source is a Python file in "percent" format: cells start with `# %%`
(code) or `# %% [markdown]` (markdown, each line prefixed with `# `). The
built notebooks (nbformat 4.5, no outputs) are committed; edit the sources
and rebuild rather than editing the .ipynb files by hand.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "notebooks"
TARGETS = {
    "starter.py": "starter/triage.ipynb",
    "solution.py": "solution/triage.ipynb",
    "no_retry.py": "baselines/no_retry/triage.ipynb",
    "retry_storm.py": "baselines/retry_storm/triage.ipynb",
    "big_spender.py": "baselines/big_spender/triage.ipynb",
    "leaky.py": "baselines/leaky/triage.ipynb",
    "lazy.py": "baselines/lazy/triage.ipynb",
    "keyword_rules.py": "baselines/keyword_rules/triage.ipynb",
    "lookup.py": "baselines/lookup/triage.ipynb",
    "nonce_retry_storm.py": "baselines/nonce_retry_storm/triage.ipynb",
}
# Notebooks built a second time under another path: the `starter` baseline is the unchanged starter.
COPIES = {"baselines/starter/triage.ipynb": "starter.py"}


def targets() -> list[tuple[str, str]]:
    """(source, target) of every notebook to build, copies included."""
    return list(TARGETS.items()) + [(source, target) for target, source in COPIES.items()]


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
    """An nbformat 4.5 notebook dict with stable cell ids."""
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
    for source, target in targets():
        text = (SOURCES / source).read_text(encoding="utf-8")
        path = TASK_DIR / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook(parse_cells(text), target), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"built {target}")


if __name__ == "__main__":
    main()
