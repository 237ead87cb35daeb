"""A small real task for grading tests: scaffolded by the catalog, with a hidden suite and hold-out data.

The candidate's notebook must read `data/numbers.csv` (the hold-out set is
mounted there at grading time), write the sum to `outputs/result.txt`, and
may call the mock LLM. The hidden suite checks the sum against a hidden label.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

HIDDEN_NUMBERS = [3, 5, 7, 11]  # the hold-out set: sum 26
SECRET = "hidden-label-7f3a9c"  # planted in grader/data by the security tests; must never leak
PUBLIC_NUMBERS = [1, 2]

SUITE = '''
import json
import pytest


@pytest.mark.points(10)
def test_sum_correct(outputs, hidden_data):
    """outputs/result.txt holds the sum of the hold-out numbers"""
    expected = (hidden_data / "expected.txt").read_text().strip()
    path = outputs / "result.txt"
    assert path.is_file() and not path.is_symlink(), "outputs/result.txt was not produced"
    got = path.read_text()[:100].strip()
    assert got == expected, f"sum is {got!r}, expected the hold-out's sum"


@pytest.mark.points(5)
def test_run_completed(run):
    """The notebook ran to the end"""
    assert run["status"] == "completed", f"run {run['status']}: {run.get('errors')}"


@pytest.mark.points(5)
def test_output_seen_by_runner(notebook):
    """The runner recorded the notebook printing DONE"""
    text = json.dumps([c.get("outputs", []) for c in notebook.cells])
    assert "DONE" in text, "DONE was never printed"
'''

GOOD_CELLS = [
    "import csv, os\nrows = list(csv.DictReader(open('data/numbers.csv')))",
    "total = sum(int(r['n']) for r in rows)\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write(str(total))",
    "print('DONE', total)",
]


def notebook(cells: list[str], markdown: str = "") -> nbformat.NotebookNode:
    """An nbformat v4 notebook of code cells (and one optional markdown cell first)."""
    nb = nbformat.v4.new_notebook()
    if markdown:
        nb.cells.append(nbformat.v4.new_markdown_cell(markdown))
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_task(root: Path, timeout: str = "1m", rpm: int | None = None) -> Path:
    """Scaffold `mini-task` under root with the suite above, hidden data and a good reference.

    With `rpm`, the grading profile allows that many requests per minute and no
    faults, and the task includes the `llm_resilience` suite.
    """
    from worksample.catalog import new_task

    folder = new_task(root, "mini-task")
    spec = (folder / "task.yaml").read_text().replace("timeout: 15m", f"timeout: {timeout}")
    if rpm is not None:
        spec = spec.replace("include: []", "include: [llm_resilience]")
        profile = folder / "profiles" / "grading.yaml"
        text = profile.read_text().replace("rpm: 60", f"rpm: {rpm}").replace("p50_ms: 200, p95_ms: 800", "p50_ms: 5, p95_ms: 20")
        profile.write_text(text.split("faults:")[0] + "faults: []\n")
    spec = spec.replace("resources: {cpus: 1, memory: 2g, pids: 256, disk: 512m}",
                        "resources: {cpus: 1, memory: 512m, pids: 128, disk: 64m}")
    (folder / "task.yaml").write_text(spec)
    (folder / "data" / "numbers.csv").write_text("n\n" + "".join(f"{n}\n" for n in PUBLIC_NUMBERS))
    hold = folder / "grader" / "data" / "holdout"
    hold.mkdir(parents=True)
    (hold / "numbers.csv").write_text("n\n" + "".join(f"{n}\n" for n in HIDDEN_NUMBERS))
    (folder / "grader" / "data" / "expected.txt").write_text(str(sum(HIDDEN_NUMBERS)))
    (folder / "grader" / "test_mini.py").write_text(SUITE)
    submission(folder / "solution", GOOD_CELLS)
    return folder


def submission(folder: Path, cells: list[str], name: str = "solution.ipynb") -> Path:
    """A submission folder holding one notebook of `cells`."""
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook(cells), folder / name)
    return folder


def load_sibling(path: Path, name: str):
    """Import a helper module by path (test folders are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
