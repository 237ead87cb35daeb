"""The attempt's activity during its time limit, as one inline SVG: cells run, saves, kernel restarts,
and the attempt's own LLM calls (from the attempt's mock log) with their cumulative cost.

Everything drawn is a number or a fixed label: no candidate text reaches the SVG.
The mock log is read bounded (size and lines), never trusted: bad lines are skipped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from worksample.config import get_settings

WIDTH, PAD_L, PAD_R, LANE_H, TOP = 860, 110, 20, 26, 14
LOG_CAP = 32 * 1024**2
LINES_CAP = 200_000
LANES = ("cells run", "saves", "kernel restarts", "LLM calls")
STATUS_COLOURS = (("2xx", "#2e7d32"), ("429", "#ef6c00"), ("5xx/net", "#c62828"), ("4xx", "#6a1b9a"))


@dataclass
class Call:
    """One LLM call of the attempt: seconds since start, HTTP status, cost."""

    t: float
    status: int
    cost: float


@dataclass
class Activity:
    """The attempt's recorded activity, relative to its start."""

    span_s: float
    submitted_s: float | None = None
    cells: list[float] = field(default_factory=list)
    saves: list[float] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def cost_usd(self) -> float:
        """What the attempt's own LLM calls cost."""
        return round(sum(c.cost for c in self.calls), 6)

    @property
    def rate_limited(self) -> int:
        """How many of the calls were answered 429."""
        return sum(c.status == 429 for c in self.calls)


def mock_log_path(attempt_id: str) -> Path:
    """Where the attempt's mock log lives (kept across the attempt's pods)."""
    return get_settings().resolved_data_dir / "attempts" / attempt_id / "mock-log" / "calls.jsonl"


def read_calls(path: Path, start_ts: float) -> list[Call]:
    """The calls in a mock log, bounded in bytes and lines; unreadable lines are skipped."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return []
    calls = []
    with os.fdopen(fd, "rb") as handle:
        for n, line in enumerate(handle.read(LOG_CAP).splitlines()):
            if n >= LINES_CAP:
                break
            try:
                rec = json.loads(line)
                calls.append(Call(float(rec["ts"]) - start_ts, int(rec.get("status") or 0),
                                  float(rec.get("cost_usd") or 0.0)))
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
    return calls


def collect(attempt_id: str, started_at: datetime, deadline: datetime, events: list[dict],
            submitted_at: datetime | None = None) -> Activity:
    """The attempt's activity from start to deadline (events from `Attempt.activity`, calls from its mock log)."""
    start = started_at.timestamp()
    span = max(1.0, deadline.timestamp() - start)
    act = Activity(span, submitted_at.timestamp() - start if submitted_at else None)
    lanes = {"cell_executed": act.cells, "save": act.saves, "kernel_restart": act.restarts}
    for event in events:
        if not isinstance(event, dict) or event.get("kind") not in lanes:
            continue
        try:
            lanes[event["kind"]].append(float(event["ts"]) - start)
        except (TypeError, ValueError, KeyError):
            continue
    act.calls = read_calls(mock_log_path(attempt_id), start)
    return act


def _colour(status: int) -> str:
    if status == 429:
        return STATUS_COLOURS[1][1]
    if status >= 500 or status == 0:
        return STATUS_COLOURS[2][1]
    if status >= 400:
        return STATUS_COLOURS[3][1]
    return STATUS_COLOURS[0][1]


def activity_svg(act: Activity) -> str:
    """An SVG of the attempt: one lane per kind of activity, LLM calls coloured by status, the cumulative cost."""
    plot_w = WIDTH - PAD_L - PAD_R
    height = TOP + LANE_H * len(LANES) + 34

    def x(t: float) -> float:
        return PAD_L + plot_w * min(max(t, 0.0), act.span_s) / act.span_s

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'class="activity" aria-label="Activity during the attempt">']
    for i, label in enumerate(LANES):
        y = TOP + LANE_H * (i + 0.5)
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="11" fill="#5b6576">{label}</text>'
                     f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eceef2"/>')
    for lane, times, colour in ((0, act.cells, "#2457c5"), (1, act.saves, "#5b6576"), (2, act.restarts, "#c62828")):
        y = TOP + LANE_H * (lane + 0.5)
        for t in times[:5000]:
            parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y - 7:.1f}" y2="{y + 7:.1f}" '
                         f'stroke="{colour}" stroke-width="1.5"/>')
    y_calls = TOP + LANE_H * 3.5
    for call in act.calls[:5000]:
        parts.append(f'<circle cx="{x(call.t):.1f}" cy="{y_calls:.1f}" r="3" fill="{_colour(call.status)}">'
                     f'<title>{call.t / 60:.1f} min: status {call.status}</title></circle>')
    parts.append(_cost_line(act, x))
    if act.submitted_s is not None:
        xs, bottom = x(act.submitted_s), TOP + LANE_H * len(LANES)
        parts.append(f'<line x1="{xs:.1f}" x2="{xs:.1f}" y1="{TOP}" y2="{bottom}" stroke="#1d2430" '
                     f'stroke-dasharray="3 3"/><text x="{xs - 3:.1f}" y="{TOP + 9}" font-size="10" '
                     f'text-anchor="end" fill="#1d2430">submitted</text>')
    parts.append(_axis(act, x, TOP + LANE_H * len(LANES)))
    parts.append("</svg>")
    return "".join(parts)


def _cost_line(act: Activity, x) -> str:
    total = act.cost_usd
    if not act.calls or total <= 0:
        return ""
    bottom, top = TOP + LANE_H * len(LANES), TOP
    running, points = 0.0, [f"{PAD_L},{bottom}"]
    for call in sorted(act.calls, key=lambda c: c.t):
        running += call.cost
        points.append(f"{x(call.t):.1f},{bottom - (bottom - top) * running / total:.1f}")
    return (f'<polyline fill="none" stroke="#1565c0" stroke-opacity="0.55" stroke-width="1.5" '
            f'points="{" ".join(points)}"/><text x="{WIDTH - PAD_R}" y="{top - 3}" font-size="10" '
            f'text-anchor="end" fill="#1565c0">cumulative cost ${total:.4f}</text>')


def _axis(act: Activity, x, y: float) -> str:
    minutes = act.span_s / 60
    step = next((s for s in (1, 5, 10, 15, 30, 60) if minutes / s <= 8), 120)
    ticks = [f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c4c9d2"/>']
    m = 0
    while m < minutes - step / 3:  # the last tick is the end of the span, labelled apart
        ticks.append(f'<text x="{x(m * 60):.1f}" y="{y + 14:.1f}" font-size="10" text-anchor="middle" '
                     f'fill="#5b6576">{m} min</text>')
        m += step
    ticks.append(f'<text x="{WIDTH - PAD_R}" y="{y + 14:.1f}" font-size="10" text-anchor="end" '
                 f'fill="#5b6576">{minutes:.0f} min</text>')
    return "".join(ticks)
