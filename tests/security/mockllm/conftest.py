"""Attacks on the mock LLM run against a real mock process (the helper of tests/integration/mockllm)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _load_mock_fixtures():
    # One mock-process helper for every suite: the one in tests/integration/mockllm.
    path = REPO / "tests" / "integration" / "mockllm" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_worksample_mock_fixtures_sec", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _load_mock_fixtures()
MockProcess = _fixtures.MockProcess
BASE_MODELS = _fixtures.BASE_MODELS
mock = _fixtures.mock
pytest_runtest_makereport = _fixtures.pytest_runtest_makereport

__all__ = ["BASE_MODELS", "MockProcess", "mock", "pytest", "pytest_runtest_makereport"]
