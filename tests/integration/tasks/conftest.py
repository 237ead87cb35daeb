"""Run a task's notebooks end to end: a real mock server process, a real local kernel.

Before grading pods exist for every test, a notebook runs here with a local
ipykernel (the .venv's Python) whose working directory is a temporary copy
of the task's starter with `data/` holding the hidden hold-out set, as at
grading time, and whose `OPENAI_BASE_URL` points at a real
`python -m worksample.mockllm serve` started with the task's grading profile
and oracle. Cells run through the platform's own `execute_notebook`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from leftover_pods import remove_leftover_pods
from mock_fixtures import MOCK_FIXTURES

REPO = Path(__file__).resolve().parents[3]
TASK = REPO / "tasks" / "support-ticket-triage"
API_KEY = "sk-candidate-test"


MockServer = MOCK_FIXTURES.MockProcess


@dataclass
class NotebookRun:
    """What one end-to-end run left behind."""

    status: str
    errors: list[str]
    duration_s: float
    workdir: Path
    mock: MockServer
    outputs: str  # all text the cells printed, for failure messages

    def triage(self) -> list[dict]:
        """Rows of outputs/triage.csv ([] when it was not written)."""
        import csv

        path = self.workdir / "outputs" / "triage.csv"
        if not path.exists():
            return []
        with path.open(newline="") as fh:
            return list(csv.DictReader(fh))


def _prepare_workspace(tmp: Path, notebook: Path) -> Path:
    """The starter files, the given notebook as the entrypoint, the hold-out set as data/."""
    workdir = tmp / "workspace"
    shutil.copytree(TASK / "starter", workdir)
    shutil.copy(notebook, workdir / "triage.ipynb")
    data = workdir / "data"
    data.mkdir()
    shutil.copy(TASK / "grader" / "data" / "holdout" / "tickets.csv", data / "tickets.csv")
    (data / "tickets.csv").chmod(0o444)
    return workdir


def _execute(workdir: Path, env: dict, cell_timeout: float, total_timeout: float):
    from jupyter_client import KernelManager

    from worksample.grading.notebook import execute_notebook, load_notebook

    nb = load_notebook(workdir / "triage.ipynb")
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(workdir), env=env)
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        record = execute_notebook(nb, client, km.is_alive, cell_timeout=cell_timeout, total_timeout=total_timeout)
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)
    texts = [o.get("text", "") or json.dumps(o.get("data", {}).get("text/plain", "")) for c in nb.cells
             if c.cell_type == "code" for o in c.get("outputs", [])]
    texts += [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    return record, "\n".join(texts)


@pytest.fixture
def run_notebook(tmp_path: Path):
    """Run a notebook of the task (path relative to the task) end to end; returns a NotebookRun."""
    servers: list[MockServer] = []

    def run(rel: str, *, profile: str = "grading", cell_timeout: float = 150, total_timeout: float = 170) -> NotebookRun:
        workdir = _prepare_workspace(tmp_path, TASK / rel)
        mock = MockServer(tmp_path, TASK / "profiles" / f"{profile}.yaml", extra=("--oracle", str(TASK / "oracle.py")))
        servers.append(mock)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_BASE_URL=mock.base_url, OPENAI_API_KEY=API_KEY, PYTHONUNBUFFERED="1")
        record, outputs = _execute(workdir, env, cell_timeout, total_timeout)
        return NotebookRun(record.status.value, record.errors, record.duration_s, workdir, mock, outputs)

    yield run
    for server in servers:
        server.stop()


@pytest.fixture
def grade(data_dir: Path, request: pytest.FixtureRequest):
    """grade(folder) → the report of that submission folder graded, through the real pipeline, against the
    task folder the test module names as TASK; fails the test if a grading pod is left behind."""
    from worksample.grading.local import grade_path

    task = request.module.TASK

    def run(folder: Path) -> dict:
        return grade_path(folder, str(task), labels={"worksample.test": "1"})

    yield run
    leftover = remove_leftover_pods(data_dir)
    assert not leftover, f"grading pods left behind: {leftover}"
