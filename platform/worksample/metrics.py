"""/metrics in the Prometheus text format (prometheus-client), computed from the database at scrape time.

The API is stateless and several processes do the work (API replicas, workers),
so counters kept in one process's memory would each tell part of the story.
The database holds all of it: attempts, submissions, and every report's
timings and mock-call counts. A scrape counts attempts and submissions with
SQL, adds the reports written since the previous scrape to a running tally
(reports never change), and reads the queue depths from Redis; the page is
cached for CACHE_S, so several scrapers cost one round.

Metrics:
  worksample_attempts_started_total          attempts ever started
  worksample_submissions{status}             submissions by status now
  worksample_grading_duration_seconds        histogram of grading runs (pod start to report)
  worksample_grading_queue_wait_seconds      histogram of waits from hand-in to a worker's claim
  worksample_grading_pod_start_seconds       histogram of grading pod start times
  worksample_mock_calls_total{status}        mock LLM calls in graded runs, by HTTP status
  worksample_queue_jobs{queue,state}         jobs queued/scheduled/started/failed per queue
  worksample_scrape_errors{part}             1 when a part could not be read (e.g. Redis down)
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select

from worksample.db import session_scope
from worksample.db.models import Attempt, Report, Submission
from worksample.errors import WorksampleError

CACHE_S = 10.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, 1800)
WAIT_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900)
START_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 10, 30)


def _histogram(name: str, doc: str, values: list[float], buckets: tuple) -> HistogramMetricFamily:
    cumulative = [(str(float(b)), sum(1 for v in values if v <= b)) for b in buckets]
    cumulative.append(("+Inf", len(values)))
    return HistogramMetricFamily(name, doc, buckets=cumulative, sum_value=float(sum(values)))


def _fresh_figures() -> dict[str, list[float] | Counter]:
    return {"total_s": [], "queue_wait_s": [], "pod_start_s": [], "calls": Counter()}


def _add_report(figures: dict, body: dict | None) -> None:
    timings = (body or {}).get("timings") or {}
    for key in ("total_s", "queue_wait_s", "pod_start_s"):
        value = timings.get(key)
        if isinstance(value, (int, float)) and value >= 0:
            figures[key].append(float(value))
    counts = ((body or {}).get("llm") or {}).get("status_counts") or {}
    for status, n in counts.items():
        if isinstance(n, int):
            figures["calls"][str(status)] += n


class _ReportTally:
    """Report figures summed once per report, for one database.

    A report never changes (a regrade adds a version), so a scrape reads only
    the reports written since the last one instead of every body each time.
    It looks back LOOKBACK_S before the newest report it has seen, for rows
    committed late or stamped by a host whose clock is a little behind, and
    remembers the ids in that window so none is counted twice.
    """

    LOOKBACK_S = 300.0

    def __init__(self) -> None:
        self.figures = _fresh_figures()
        self.newest = None  # created_at of the newest report counted
        self.window: dict[str, object] = {}  # id -> created_at of reports counted within the look-back

    def update(self, db) -> dict:
        query = select(Report.id, Report.created_at, Report.body)
        if self.newest is not None:
            query = query.where(Report.created_at >= self.newest - timedelta(seconds=self.LOOKBACK_S))
        for report_id, created, body in db.execute(query):
            if report_id in self.window:
                continue
            _add_report(self.figures, body)
            self.window[report_id] = created
            self.newest = created if self.newest is None else max(self.newest, created)
        if self.newest is not None:
            edge = self.newest - timedelta(seconds=self.LOOKBACK_S)
            self.window = {rid: at for rid, at in self.window.items() if at >= edge}
        return self.figures


_tallies: dict[str, _ReportTally] = {}


def _report_figures() -> dict[str, list[float] | Counter]:
    with session_scope() as db:
        key = str(db.get_bind().url)
        return _tallies.setdefault(key, _ReportTally()).update(db)


class PlatformCollector:
    """A prometheus-client collector that reads the platform's figures when scraped."""

    def collect(self):
        """Yield every metric family (prometheus-client calls this on each scrape)."""
        with session_scope() as db:
            started = db.scalar(select(func.count(Attempt.id))) or 0
            by_status = dict(db.execute(select(Submission.status, func.count(Submission.id))
                                        .group_by(Submission.status)).all())
        yield CounterMetricFamily("worksample_attempts_started", "Attempts ever started", value=started)
        subs = GaugeMetricFamily("worksample_submissions", "Submissions by status", labels=["status"])
        for status in ("queued", "running", "graded", "error"):
            subs.add_metric([status], sum(n for s, n in by_status.items() if getattr(s, "value", s) == status))
        yield subs
        figures = _report_figures()
        yield _histogram("worksample_grading_duration_seconds", "Grading run time, pod start to report",
                         figures["total_s"], DURATION_BUCKETS)
        yield _histogram("worksample_grading_queue_wait_seconds", "Hand-in to grading claim",
                         figures["queue_wait_s"], WAIT_BUCKETS)
        yield _histogram("worksample_grading_pod_start_seconds", "Grading pod start time",
                         figures["pod_start_s"], START_BUCKETS)
        calls = CounterMetricFamily("worksample_mock_calls", "Mock LLM calls in graded runs, by HTTP status",
                                    labels=["status"])
        for status, n in sorted(figures["calls"].items()):
            calls.add_metric([status], n)
        yield calls
        yield from self._queues()

    def _queues(self):
        errors = GaugeMetricFamily("worksample_scrape_errors", "1 when a part could not be read", labels=["part"])
        jobs = GaugeMetricFamily("worksample_queue_jobs", "Jobs per queue and state", labels=["queue", "state"])
        try:
            from worksample.jobs.operations import queue_depths

            for depth in queue_depths():
                for state in ("queued", "scheduled", "started", "failed"):
                    jobs.add_metric([depth.name, state], getattr(depth, state))
            errors.add_metric(["redis"], 0)
        except WorksampleError:  # Redis away: the database figures still count
            errors.add_metric(["redis"], 1)
        yield jobs
        yield errors


_lock = threading.Lock()
_cache: tuple[float, bytes] = (0.0, b"")


def render() -> bytes:
    """The metrics page body (cached for CACHE_S). Raises only database errors."""
    global _cache
    with _lock:
        if time.monotonic() - _cache[0] < CACHE_S and _cache[1]:
            return _cache[1]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(PlatformCollector())
        _cache = (time.monotonic(), generate_latest(registry))
        return _cache[1]
