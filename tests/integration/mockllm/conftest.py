"""A real mock server process on a free loopback port, per test."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import httpx
import pytest
import yaml

from factories import keeping

BASE_MODELS = [
    {"id": "atlas-mini", "input_per_mtok": 0.15, "output_per_mtok": 0.6, "context_window": 16000},
    {"id": "atlas-pro", "input_per_mtok": 2.5, "output_per_mtok": 10.0, "context_window": 128000},
    {"id": "atlas-embed", "input_per_mtok": 0.02, "output_per_mtok": 0.0, "kind": "embedding", "dimensions": 32},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MockProcess:
    """One `python -m worksample.mockllm serve` process and its logs."""

    def __init__(self, tmp_path: Path, profile: dict | Path | None = None, api_keys: tuple[str, ...] = (), argv0: list[str] | None = None,
                 seed: int | None = None, extra: tuple[str, ...] = (), log_path: Path | None = None) -> None:
        """`profile` is a dict merged over BASE_MODELS (none: BASE_MODELS alone), or a profile file served as it is.

        `log_path` reuses another mock's call log (a restart on the same log dir).
        """
        self.dir = tmp_path / f"mock{free_port()}"
        self.dir.mkdir()
        if isinstance(profile, Path):
            self.profile_path = profile
        else:
            self.profile_path = self.dir / "profile.yaml"
            self.profile_path.write_text(yaml.safe_dump({"models": BASE_MODELS, **(profile or {})}))
        self.log_path = log_path or self.dir / "logs" / "calls.jsonl"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        cmd = (argv0 or [sys.executable, "-m", "worksample.mockllm"]) + [
            "serve", "--profile", str(self.profile_path), "--port", str(self.port), "--log", str(self.log_path)]
        for key in api_keys:
            cmd += ["--api-key", key]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        cmd += list(extra)
        self.stderr_path = self.dir / "stderr.txt"
        self._stderr = self.stderr_path.open("wb")
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
                time.sleep(0.05)
        raise RuntimeError(f"mock not ready: {self.stderr_path.read_text()}")

    def calls(self) -> list[dict]:
        """Every call-log line so far."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def bodies(self) -> str:
        """The raw text of bodies.jsonl (request bodies, beside the call log)."""
        path = self.log_path.parent / "bodies.jsonl"
        return path.read_text() if path.exists() else ""

    def call(self, request_id: str) -> dict:
        """The call-log line of one request id (it must be there already)."""
        return next(c for c in self.calls() if c["request_id"] == request_id)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._stderr.close()


@pytest.fixture
def mock(tmp_path: Path, request: pytest.FixtureRequest):
    """Factory: mock(profile_dict, api_keys=()) starts a server; all are stopped at the end."""
    start, started = keeping(partial(MockProcess, tmp_path))
    yield start
    for proc in started:
        proc.stop()
        stderr = proc.stderr_path.read_text()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            print(f"--- mock stderr ({proc.base_url}) ---\n{stderr}")
        # The server must never log a traceback, whatever the test sent.
        assert "Traceback" not in stderr, stderr


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
