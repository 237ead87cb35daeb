"""Fault-suite fixtures (see chaos_harness.py); the attempt tests' platform harness for scenarios with attempts."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration" / "attempts"))

from chaos_harness import submit, workers  # noqa: E402,F401
