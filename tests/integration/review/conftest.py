"""Review-test fixtures (see review_harness.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_harness import app, browser, db, team  # noqa: E402,F401
