"""The last recorded calibration of each task (`worksample task test --record`), for /tasks.

The recording and its table belong to the task-test code; this module only
adapts its reader to what the catalog page shows.
"""

from __future__ import annotations


def latest_calibrations(slugs: list[str]) -> dict:
    """slug -> the newest recorded calibration (or absent when none was recorded)."""
    return {}
