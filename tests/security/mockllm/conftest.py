"""Attacks on the mock LLM run against a real mock process (the helper of tests/integration/mockllm)."""

from __future__ import annotations

import pytest

from mock_fixtures import MOCK_FIXTURES

_fixtures = MOCK_FIXTURES
MockProcess = _fixtures.MockProcess
BASE_MODELS = _fixtures.BASE_MODELS
mock = _fixtures.mock
pytest_runtest_makereport = _fixtures.pytest_runtest_makereport

__all__ = ["BASE_MODELS", "MockProcess", "mock", "pytest", "pytest_runtest_makereport"]
