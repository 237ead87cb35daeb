"""Attempt-test fixtures (see tests/integration/attempts/attempts_harness.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "attempts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # e2e_browser

from attempts_harness import make_platform, pytest_runtest_makereport  # noqa: E402,F401
