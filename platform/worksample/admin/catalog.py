"""The catalog page's figures per task: track, time limit, calibration, and what real candidates scored.

"Real" submissions are those of candidates' attempts (local `worksample grade`
and `task test` runs have no attempt and are left out). Scores are the newest
report of each submission, as a percentage of its maximum.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import func, select

from worksample.db import Attempt, Report, Submission, Task, session_scope

BINS = 10
SVG_W, SVG_H, PAD = 240, 64, 14


@dataclass
class TaskFigures:
    """One catalog row."""

    slug: str
    title: str
    track: str
    time_limit: str
    pass_threshold: float | None
    scores: list[float] = field(default_factory=list)  # percentages
    passed: int = 0
    time_used_s: list[float] = field(default_factory=list)
    calibration: object | None = None

    @property
    def graded(self) -> int:
        """How many real submissions have a report."""
        return len(self.scores)

    @property
    def pass_rate(self) -> float | None:
        """Share of graded real submissions that passed."""
        return self.passed / self.graded if self.graded else None

    @property
    def median_time_s(self) -> float | None:
        """Median time used by candidates who handed in."""
        return statistics.median(self.time_used_s) if self.time_used_s else None

    def histogram(self) -> list[int]:
        """Counts of scores in ten 10-point bins (100 goes in the last)."""
        counts = [0] * BINS
        for score in self.scores:
            counts[min(BINS - 1, max(0, int(score // (100 / BINS))))] += 1
        return counts

    def histogram_svg(self) -> Markup:
        """The score histogram as inline SVG (numbers only: nothing a candidate wrote goes in)."""
        return histogram_svg(self.histogram(), self.pass_threshold)


def histogram_svg(counts: list[int], threshold: float | None = None) -> Markup:
    """Bars for `counts` over 0–100 %, with the pass threshold as a dashed line; safe markup."""
    top = max(counts) or 1
    bar_w = SVG_W / len(counts)
    height = SVG_H - PAD
    parts = [f'<svg class="histogram" xmlns="http://www.w3.org/2000/svg" width="{SVG_W}" height="{SVG_H}" '
             f'viewBox="0 0 {SVG_W} {SVG_H}" role="img" aria-label="score histogram">',
             f'<line x1="0" y1="{height}" x2="{SVG_W}" y2="{height}" stroke="#c4c9d2"/>']
    for i, n in enumerate(counts):
        h = round(height * n / top, 1)
        lo = i * 100 // len(counts)
        parts.append(f'<rect x="{i * bar_w + 1:.1f}" y="{height - h:.1f}" width="{bar_w - 2:.1f}" height="{h}" '
                     f'fill="#2457c5"><title>{lo}–{lo + 100 // len(counts)} %: {n}</title></rect>')
    if threshold is not None:
        x = SVG_W * float(threshold) / 100
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#c62828" '
                     f'stroke-dasharray="3 2"><title>pass threshold {threshold:g}</title></line>')
    parts.append(f'<text x="0" y="{SVG_H - 2}" font-size="10" fill="#5b6576">0</text>'
                 f'<text x="{SVG_W}" y="{SVG_H - 2}" font-size="10" fill="#5b6576" text-anchor="end">100 %</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def task_figures() -> list[TaskFigures]:
    """Every task in the catalog with its figures, by title."""
    with session_scope() as db:
        tasks = {t.id: TaskFigures(t.slug, t.title, (t.spec or {}).get("track", "?"),
                                   str((t.spec or {}).get("time_limit", "?")),
                                   ((t.spec or {}).get("grading") or {}).get("pass_threshold"))
                 for t in db.scalars(select(Task).order_by(Task.title))}
        newest = (select(Report.submission_id, func.max(Report.version).label("v"))
                  .group_by(Report.submission_id).subquery())
        scored = db.execute(
            select(Submission.task_id, Report.score, Report.max_score, Report.passed)
            .join(newest, newest.c.submission_id == Submission.id)
            .join(Report, (Report.submission_id == newest.c.submission_id) & (Report.version == newest.c.v))
            .where(Submission.attempt_id.is_not(None)))
        for task_id, score, max_score, passed in scored:
            if task_id in tasks and max_score:
                tasks[task_id].scores.append(100.0 * score / max_score)
                tasks[task_id].passed += bool(passed)
        handed_in = db.execute(select(Submission.task_id, Attempt.started_at, Attempt.submitted_at)
                               .join(Attempt, Attempt.id == Submission.attempt_id)
                               .where(Attempt.submitted_at.is_not(None)))
        for task_id, started, submitted in handed_in:
            if task_id in tasks:
                tasks[task_id].time_used_s.append((submitted - started).total_seconds())
    return list(tasks.values())
