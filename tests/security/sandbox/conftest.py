"""The sandbox security tests use the same fixtures as tests/integration/sandbox.

Loaded from that conftest (one definition, one leftover check) rather than copied.
"""

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parents[2] / "integration" / "sandbox" / "conftest.py"
_spec = importlib.util.spec_from_file_location("_worksample_sandbox_fixtures", _path)
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)
globals().update({name: value for name, value in vars(_shared).items() if not name.startswith("__")})
