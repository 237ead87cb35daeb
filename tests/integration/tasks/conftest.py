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
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]
TASK = REPO / "tasks" / "support-ticket-triage"
API_KEY = "sk-candidate-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MockServer:
    """One mock LLM server process serving the task's grading profile and oracle."""

    def __init__(self, workdir: Path, profile: Path, oracle: Path) -> None:
        self.log_path = workdir / "mock" / "calls.jsonl"
        self.log_path.parent.mkdir(parents=True)
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.stderr_path = workdir / "mock" / "stderr.txt"
        self._stderr = self.stderr_path.open("wb")
        cmd = [sys.executable, "-m", "worksample.mockllm", "serve", "--profile", str(profile), "--oracle", str(oracle),
               "--log", str(self.log_path), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self._stderr)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mock exited {self.proc.returncode}: {self.stderr_path.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"mock not ready: {self.stderr_path.read_text()}")

    def calls(self) -> list[dict]:
        """Every line of the call log."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def bodies(self) -> str:
        """The raw text of bodies.jsonl (request bodies, beside the call log)."""
        path = self.log_path.parent / "bodies.jsonl"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        """Terminate the server (kill if it does not stop in 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


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
        mock = MockServer(tmp_path, TASK / "profiles" / f"{profile}.yaml", TASK / "oracle.py")
        servers.append(mock)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_BASE_URL=mock.base_url, OPENAI_API_KEY=API_KEY, PYTHONUNBUFFERED="1")
        record, outputs = _execute(workdir, env, cell_timeout, total_timeout)
        return NotebookRun(record.status.value, record.errors, record.duration_s, workdir, mock, outputs)

    yield run
    for server in servers:
        server.stop()
