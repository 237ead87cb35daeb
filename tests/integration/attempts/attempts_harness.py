"""A real platform for attempt tests: a temp task catalog, `worksample serve` (or `up`) as a process, staff tokens.

Shared by tests/integration/attempts, tests/security/attempts and tests/e2e
(their conftests put this folder on sys.path). Every pod the platform makes
for these tests carries `worksample.test=1` and this run's id (through
WORKSAMPLE_POD_LABELS); teardown removes them and unmounts the workspaces, and
prints the pods' logs when a test failed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from sessions import stop_session

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
RUN_ID = uuid.uuid4().hex[:12]
POD_LABELS = f"worksample.test=1,worksample.test_run={RUN_ID}"
PROBE_CODE = (
    "from openai import OpenAI\n"
    "client = OpenAI(max_retries=8, timeout=20)\n"
    "reply = client.chat.completions.create(model='atlas-mini', messages=[{'role': 'user', 'content': 'ping'}])\n"
    "print('MOCK-OK', reply.model, reply.usage.total_tokens > 0)\n"
)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def probe_notebook() -> dict:
    """A starter notebook whose one code cell calls the mock through OPENAI_BASE_URL with the openai SDK."""
    cells = [
        {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Probe\nCalls the LLM API once."},
        {"cell_type": "code", "id": "call-mock", "metadata": {}, "execution_count": None, "outputs": [],
         "source": PROBE_CODE},
    ]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}


def flagship_copy(root: Path, scaffold_slug: str, **fields) -> tuple[Path, dict]:
    """A copy of the flagship task in `root` (or a scaffolded task `scaffold_slug` while the flagship
    does not validate) with 1 GiB pod memory and `fields` set in its task.yaml; its folder and spec.
    Also used by bench/attempt_start.py."""
    from worksample.catalog import TaskInvalid, load_task, new_task

    root.mkdir(parents=True, exist_ok=True)
    flagship = REPO / "tasks" / "support-ticket-triage"
    try:
        load_task(flagship)
        folder = root / flagship.name
        shutil.copytree(flagship, folder, ignore=shutil.ignore_patterns("__pycache__"))
    except TaskInvalid:
        folder = new_task(root, scaffold_slug)
    spec = yaml.safe_load((folder / "task.yaml").read_text())
    spec.update(fields)
    spec["resources"] = {**spec.get("resources", {}), "memory": "1g"}
    (folder / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder, spec


def make_task(root: Path, time_limit: str = "30m") -> str:
    """A copy of the flagship task (or a scaffolded one while the flagship does not validate) with
    `time_limit` and a `probe.ipynb` starter; returns its slug."""
    from worksample.catalog import load_task

    folder, spec = flagship_copy(root, "attempt-probe", time_limit=time_limit)
    starter = folder / spec["workspace"]["starter"]
    starter.mkdir(exist_ok=True)
    (starter / "probe.ipynb").write_text(json.dumps(probe_notebook(), indent=1))
    load_task(folder)  # still valid
    return spec["slug"]


@dataclass
class Platform:
    """A platform process (`serve` or `up`) on loopback with its own data dir and catalog."""

    data_dir: Path
    tasks_dir: Path
    redis_url: str | None
    command: str = "serve"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The process environment."""
        # DATABASE_URL passes through: the data_dir fixture sets it (--db postgres) or clears it (SQLite).
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(WORKSAMPLE_DATA_DIR=str(self.data_dir), WORKSAMPLE_TASKS_DIR=str(self.tasks_dir),
                   WORKSAMPLE_POD_LABELS=POD_LABELS, WORKSAMPLE_PUBLIC_URL=self.url, WORKSAMPLE_ENV="development")
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def start(self, timeout: float = 60) -> None:
        """Start the process and wait until /healthz answers."""
        self.log = self.data_dir / f"{self.command}-{int(time.time() * 1000)}.log"
        argv = [str(VENV_BIN / "worksample"), self.command, "--port", str(self.port)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.command} exited: {self.log.read_text()[-3000:]}"
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"{self.command} did not answer in {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        """Stop the process (SIGTERM: a clean stop; SIGKILL: a crash)."""
        stop_session(self.proc, sig, timeout)

    def output(self) -> str:
        """What the process printed so far."""
        return self.log.read_text() if self.log and self.log.exists() else ""

    def admin_token(self) -> str:
        """A new admin bearer token, made with the CLI against this data dir."""
        out = subprocess.run([str(VENV_BIN / "worksample"), "token", "create", "--role", "admin", "--name", "admin"],
                             env=self.env(), capture_output=True, text=True, timeout=60, check=True)
        return out.stdout.strip().splitlines()[-1]

    def invite(self, token: str, slug: str, name: str = "Ada Candidate") -> dict:
        """POST /api/v1/invitations; the JSON body."""
        resp = httpx.post(self.url + "/api/v1/invitations", headers={"Authorization": f"Bearer {token}"},
                          json={"task": slug, "candidate": {"name": name, "email": "ada@example.com"}}, timeout=30)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def start_attempt(self, invite_token: str) -> tuple[dict, str]:
        """POST /api/v1/attempts/{token}/start; (JSON body, attempt cookie value)."""
        resp = httpx.post(f"{self.url}/api/v1/attempts/{invite_token}/start", timeout=120)
        assert resp.status_code == 200, resp.text
        return resp.json(), resp.cookies["ws_attempt"]

    def candidate(self, cookie: str) -> httpx.Client:
        """An HTTP client holding one attempt cookie."""
        return httpx.Client(base_url=self.url, cookies={"ws_attempt": cookie}, timeout=60)


def pods_of_run() -> list[dict]:
    """The containers of this test run (docker CLI, so tests need not import docker)."""
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label=worksample.test_run={RUN_ID}",
                          "--format", "{{json .}}"], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def attempt_pods(attempt_id: str) -> list[dict]:
    """Containers (any state) of an attempt's pods."""
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label=worksample.attempt={attempt_id}",
                          "--format", "{{json .}}"], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def cleanup(data_dir: Path, failed: bool) -> None:
    """Remove this run's containers (logs printed first on failure) and unmount attempt workspaces."""
    for container in pods_of_run():
        if failed:
            logs = subprocess.run(["docker", "logs", "--tail", "40", container["ID"]], capture_output=True, text=True)
            print(f"--- {container['Names']} ({container['Status']})\n{logs.stdout}{logs.stderr}")
        subprocess.run(["docker", "rm", "-f", "-v", container["ID"]], capture_output=True)
    for mount in sorted((data_dir / "attempts").glob("*/workspace")):
        if os.path.ismount(mount):
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
    for mount in sorted((data_dir / "pods").glob("*/ipc")):  # the pods' /ipc tmpfs (sandbox.layout)
        if os.path.ismount(mount):
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def make_platform(request, tmp_path: Path, data_dir: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch):
    """`make_platform(time_limit="30m", command="serve")` → (Platform, slug), started; all stopped at the end."""
    made: list[Platform] = []

    def factory(time_limit: str = "30m", command: str = "serve") -> tuple[Platform, str]:
        tasks = tmp_path / "tasks"
        slug = make_task(tasks, time_limit)
        monkeypatch.setenv("WORKSAMPLE_TASKS_DIR", str(tasks))
        platform = Platform(data_dir=data_dir, tasks_dir=tasks, redis_url=redis_url if command == "serve" else None,
                            command=command)
        made.append(platform)
        platform.start()
        return platform, slug

    yield factory
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for platform in made:
        platform.stop()
        if failed:
            print(f"--- {platform.command} output\n{platform.output()[-4000:]}")
    cleanup(data_dir, failed)
