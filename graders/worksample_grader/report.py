"""Checks and their scores, and the suite's result file.

Scoring rules (the only place they live):
- a check earns points only when its test *passed*; a passing check may scale
  its points down with `check.scale(fraction)` (e.g. accuracy);
- failed, errored (setup/teardown/collection), skipped, xfailed and xpassed
  checks earn zero;
- a test without `@pytest.mark.points` is an authoring error: it is listed with
  status `error` and earns nothing;
- a check marked `@pytest.mark.gate` is a gate: whatever the points, a gate
  that does not pass makes the submission *not passed* (the platform decides
  `passed`; the result lists the failed gates in `gates_failed`);
- a check that had nothing to judge fails with a message starting
  "no evidence" (see `worksample_grader.evidence`) and earns zero.

The result file is written atomically (temp file + rename) so a half-written
file is never read as a result.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

PASS, FAIL, ERROR = "pass", "fail", "error"
MESSAGE_CAP = 500
RESULT_SCHEMA = "worksample-grader-result/1"


@dataclass
class Check:
    """One check as it appears in a report."""

    id: str
    title: str
    group: str
    max_points: float
    status: str = ERROR
    points: float = 0.0
    message: str = ""
    fraction: float = 1.0
    gate: bool = False
    nodeid: str = field(default="", repr=False)

    def public(self) -> dict:
        """The check's report fields (DESIGN §9)."""
        data = asdict(self)
        data.pop("fraction")
        data.pop("nodeid")
        return data


def clip(text: str, cap: int = MESSAGE_CAP) -> str:
    """A message cut to `cap` characters, marking the cut."""
    text = text.strip()
    return text if len(text) <= cap else text[: cap - 1] + "…"


def settle(check: Check) -> Check:
    """Set `points` from status and fraction: only a pass earns, scaled by its fraction."""
    if check.status == PASS:
        fraction = min(1.0, max(0.0, check.fraction))
        check.points = round(check.max_points * fraction, 3)
    else:
        check.points = 0.0
    return check


def failed_gates(checks: list[Check]) -> list[str]:
    """Ids of the gates that did not pass (failed or errored)."""
    return [c.id for c in checks if c.gate and c.status != PASS]


def summarize(checks: list[Check]) -> dict:
    """Score, max score, failed gates and checks, in the order given."""
    for check in checks:
        settle(check)
    return {
        "schema": RESULT_SCHEMA,
        "score": round(sum(c.points for c in checks), 3),
        "max_score": round(sum(c.max_points for c in checks), 3),
        "gates_failed": failed_gates(checks),
        "checks": [c.public() for c in checks],
    }


def write_result(path: Path, result: dict) -> None:
    """Write the result JSON to `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".result-")
    with os.fdopen(fd, "w") as handle:
        json.dump(result, handle, indent=1)
    os.replace(tmp, path)
