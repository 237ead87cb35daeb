"""Attacks on grading run against a real small task in real grading pods (Docker)."""

from __future__ import annotations

import json
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest

from leftover_pods import remove_leftover_pods

MINITASK = Path(__file__).resolve().parents[2] / "integration" / "grading" / "minitask.py"


@pytest.fixture(scope="module")
def minitask():
    """The small-task helper shared with the integration tests."""
    spec = spec_from_file_location("grading_minitask_sec", MINITASK)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def grade(tmp_path: Path, data_dir: Path, minitask, request):
    """grade(cells, edit=None) → the report of a submission of those cells against the small task (20 s run limit)."""
    from worksample.grading.local import grade_path

    task = minitask.make_task(tmp_path / "tasks", timeout="20s")
    (task / "grader" / "data" / "secret.txt").write_text(minitask.SECRET)

    def run(cells: list[str], edit=None) -> dict:
        folder = minitask.submission(tmp_path / f"sub{len(list(tmp_path.iterdir()))}", cells)
        if edit is not None:  # edit(notebook_json) may make it something nbformat would never write
            path = folder / "solution.ipynb"
            nb = json.loads(path.read_text())
            edit(nb)
            path.write_text(json.dumps(nb))
        return grade_path(folder, str(task), labels={"worksample.test": "1"})

    yield run
    leftover = remove_leftover_pods(data_dir)
    assert not leftover, f"grading pods left behind: {leftover}"
