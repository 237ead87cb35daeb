"""The mock-process helpers of tests/integration/mockllm/conftest.py, for the suites elsewhere that start a mock.

A conftest cannot be imported by name from another folder; it is loaded once, by path,
under a name of its own, and every suite takes MockProcess and friends from here.
"""

from __future__ import annotations

from pathlib import Path

from worksample_grader.tasktools import load_module

MOCK_FIXTURES = load_module("_worksample_mock_fixtures",
                            Path(__file__).resolve().parent / "integration" / "mockllm" / "conftest.py")
