"""What the tools of every task (`tasks/<slug>/tools/`) share: notebooks built from readable sources.

A notebook's source is a Python file in "percent" format: a cell starts with `# %%`
(code) or `# %% [markdown]` (markdown, each line prefixed with `# `). A baseline is
best written as the reference with a few named edits ((old, new) pairs, each `old`
found exactly once), so it differs from the reference exactly in the weakness it is
named after. The built notebooks (nbformat 4.5, stable cell ids, no outputs) are
committed; a task's `tools/build_notebooks.py` says which notebook comes from which
source (`sources()`: notebook path in the task → source text) and calls `write_all`.

A source may include a shared fragment with a line `# include: FILE` (FILE beside the
source), so that a cell the starter and the reference must share (the data loading, say)
is written once and cannot drift between them.

Also here, for the same tools, the task suites and the tests: `load_module`, which
loads a module by path under a name of its own (the tools of two tasks have modules
of the same names, and a plain import would take whichever came first).
Standard library only, like the rest of this package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType


def load_module(name: str, path: Path) -> ModuleType:
    """Load the Python file at `path` as module `name` (registered in sys.modules); returns the module.

    Raises FileNotFoundError if there is no such file, and whatever executing the module raises.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such module file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up by name
    spec.loader.exec_module(module)
    return module


INCLUDE = "# include: "


def read_source(path: Path) -> str:
    """The percent-format text of the source at `path`, each `# include: FILE` line replaced by FILE's text.

    Raises FileNotFoundError naming a missing include; includes do not nest.
    """
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith(INCLUDE):
            fragment = path.parent / line[len(INCLUDE):].strip()
            if not fragment.is_file():
                raise FileNotFoundError(f"{path.name}: include {fragment.name}: no such file")
            line = fragment.read_text(encoding="utf-8").rstrip("\n") + ("\n" if line.endswith("\n") else "")
        lines.append(line)
    return "".join(lines)


def parse_cells(text: str) -> list[tuple[str, str]]:
    """(cell_type, source) pairs from percent-format text; empty cells are dropped."""
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


def code_of(text: str) -> str:
    """The code cells of percent-format `text`, joined into one script (how calibrations run a notebook)."""
    return "\n\n".join(source for kind, source in parse_cells(text) if kind == "code")


def patched(source: str, edits: list[tuple[str, str]], name: str) -> str:
    """`source` with each (old, new) edit applied in order.

    Raises ValueError naming the notebook `name` when an `old` does not occur exactly once.
    """
    for old, new in edits:
        found = source.count(old)
        if found != 1:
            raise ValueError(f"{name}: edit target found {found} times: {old[:60]!r}")
        source = source.replace(old, new)
    return source


def notebook(cells: list[tuple[str, str]], name: str) -> dict:
    """An nbformat 4.5 notebook dict with cell ids stable for `name` and no outputs."""
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


def render(rel: str, text: str) -> str:
    """The committed form of notebook `rel` (its path in the task) built from percent-format `text`."""
    return json.dumps(notebook(parse_cells(text), rel), indent=1, ensure_ascii=False) + "\n"


def write_all(task_dir: Path, sources: dict[str, str]) -> None:
    """Write each notebook of `sources` (path in the task → percent-format text) under `task_dir`."""
    for rel, text in sources.items():
        path = task_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(rel, text), encoding="utf-8")
        print(f"built {rel}")
