"""Run a task's hidden suite over a crafted run folder, host-side, as the grader container does.

Shared by the catalog tests that check what a task's checks reward and refuse
(tests/unit/catalog/test_*_grader.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from worksample.grading import suite as grading_suite
from worksample.grading.suite import GRADERS_ROOT


def run_hidden_suite(root: Path, task: Path, include: tuple[str, ...] = ()) -> dict:
    """Grade root/run with task/grader (plus the named shared suites); the result JSON.

    Fails the calling test, with the suite's output, if no result is written.
    """
    (root / "suites").mkdir()
    (root / "suites" / "pytest.ini").write_text("")
    (root / "suites" / "task").symlink_to(task / "grader")
    paths = [str(root / "suites" / "task")]
    for name in include:
        (root / "suites" / name).symlink_to(GRADERS_ROOT / "suites" / name)
        paths.append(str(root / "suites" / name))
    result = root / "out" / "result.json"
    argv = grading_suite.pytest_command(sys.executable, str(root / "run"), str(result), str(task / "grader" / "data"),
                                        paths, str(root / "suites" / "pytest.ini"))
    env = {"PYTHONPATH": str(GRADERS_ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(argv, cwd=root / "suites", env=env, capture_output=True, text=True, timeout=100)
    assert result.exists(), f"no result written\n{proc.stdout}\n{proc.stderr}"
    return json.loads(result.read_text())
