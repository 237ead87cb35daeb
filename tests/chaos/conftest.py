"""Fault-suite fixtures (see chaos_harness.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chaos_harness import submit, workers  # noqa: E402,F401
