"""The last recorded calibration of each task (`worksample task test --record`), for /tasks.

The recording and its table belong to the task-test code
(worksample.grading.calibration); this module only turns its reader's rows
into what the catalog page shows: verdict, when, the reference's lowest score
and each baseline's highest, in percent of the maximum, over the seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class CalibrationSummary:
    """One task's newest calibration, summarised."""

    ok: bool
    when: datetime
    seeds: int
    reference_pct: float | None  # lowest over the seeds
    baselines: dict[str, float]  # name -> highest percent over the seeds
    problems: list[str]

    @property
    def summary(self) -> str:
        """One line for the catalog table."""
        verdict = "calibrated" if self.ok else "FAILED"
        ref = f"reference {self.reference_pct:.0f} %" if self.reference_pct is not None else "no reference"
        base = ", ".join(f"{n} {p:.0f} %" for n, p in sorted(self.baselines.items()))
        return (f"{verdict} {self.when:%Y-%m-%d %H:%M} UTC, {self.seeds} seed{'s' if self.seeds != 1 else ''}: "
                f"{ref}" + (f"; baselines {base}" if base else ""))


def _pct(result: dict) -> float | None:
    try:
        return 100.0 * float(result["score"]) / float(result["max_score"]) if result.get("max_score") else None
    except (KeyError, TypeError, ValueError):
        return None


def summarise(row: dict) -> CalibrationSummary:
    """A reader row ({ok, seeds, results, problems, created_at, ...}) as a summary."""
    reference, baselines = [], {}
    for result in row.get("results") or []:
        pct = _pct(result)
        if pct is None:
            continue
        if result.get("candidate") == "solution":
            reference.append(pct)
        else:
            name = str(result.get("candidate"))
            baselines[name] = max(baselines.get(name, 0.0), pct)
    when = row.get("created_at") or datetime.now(timezone.utc)
    return CalibrationSummary(bool(row.get("ok")), when, int(row.get("seeds") or 1),
                              min(reference) if reference else None, baselines, list(row.get("problems") or []))


def latest_calibrations(slugs: list[str]) -> dict[str, CalibrationSummary]:
    """slug -> the newest recorded calibration, summarised (absent when none was recorded)."""
    from worksample.grading.calibration import latest_calibrations as recorded

    rows = recorded()
    return {slug: summarise(rows[slug]) for slug in slugs if slug in rows}
