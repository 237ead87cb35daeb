"""Fixtures of the validity attacks (helpers in validity_kit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # importlib mode: make validity_kit importable

from mock_fixtures import MOCK_FIXTURES  # noqa: E402


@pytest.fixture
def mock_process(tmp_path: Path):
    """mock_process(profile, **kw) → a real mock server process (stopped at the end)."""
    started = []

    def start(profile, **kwargs):
        server = MOCK_FIXTURES.MockProcess(tmp_path, profile, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
