"""Synthetic candidates for the review side: tasks, invitations, attempts, submissions and reports as rows.

Used by bench/review_pages.py (1,000 submissions across 4 tasks) and the review
tests; it writes the same rows the real platform writes (no shortcut table),
so the pages are measured and tested on their real queries.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from worksample.db import Attempt, Invitation, Report, Submission, Task, session_scope
from worksample.db.models import AttemptStatus, SubmissionStatus, utcnow

RUBRIC = [{"id": "tradeoffs", "title": "Explains model choice and cost trade-offs", "points": 10},
          {"id": "failure_handling", "title": "Handles rate limits, errors and outages", "points": 10},
          {"id": "code_quality", "title": "Readable code a teammate could rerun", "points": 5}]
CHECKS = [("accuracy", "Macro-F1 on the hold-out set", "task", 40), ("retries", "Retries 429s with backoff", "llm", 20),
          ("budget", "Stays within the budget", "llm", 20), ("outputs", "Writes outputs/predictions.csv", "task", 20)]


def add_task(slug: str, title: str, rubric: list[dict] | None = None, time_limit: str = "2h",
             path: Path | None = None) -> str:
    """A task row with a rubric (no folder needed by the review pages); returns its id."""
    spec = {"slug": slug, "title": title, "time_limit": time_limit, "rubric": RUBRIC if rubric is None else rubric}
    with session_scope() as db:
        row = Task(slug=slug, title=title, version="synthetic", path=str(path or f"/nonexistent/{slug}"), spec=spec)
        db.add(row)
        db.flush()
        return row.id


@dataclass(frozen=True)
class Seeded:
    """What `add_candidate` made."""

    invitation_id: str
    attempt_id: str | None
    submission_id: str | None


def report_body(submission_id: str, slug: str, score_share: float, rng: random.Random, calls: int = 40) -> dict:
    """A report body shaped like the grader's (checks, llm block, timeline, run)."""
    checks, score = [], 0.0
    for cid, title, group, top in CHECKS:
        got = round(top * min(1.0, max(0.0, score_share + rng.uniform(-0.2, 0.2))))
        score += got
        checks.append({"id": cid, "title": title, "group": group, "points": got, "max_points": top,
                       "status": "pass" if got >= top / 2 else "fail", "message": "" if got >= top / 2 else "below"})
    statuses = [rng.choice((200, 200, 200, 200, 429, 500)) for _ in range(calls)]
    timeline = [[round(i * 1.5, 3), s, None if s == 200 else "fault", False, 0.0004 if s == 200 else 0.0]
                for i, s in enumerate(statuses)]
    cost = round(sum(t[4] for t in timeline), 6)
    return {"submission_id": submission_id, "task": slug, "score": score, "max_score": 100.0,
            "passed": score >= 60, "pass_threshold": 60, "checks": checks, "timeline": timeline,
            "llm": {"calls": calls, "status_counts": {}, "retries": statuses.count(429), "rate_limited":
                    statuses.count(429), "cost_usd": cost, "prompt_tokens": 100 * calls,
                    "completion_tokens": 20 * calls, "max_in_flight": 2},
            "run": {"status": "completed", "duration_s": 42.0, "cells": 12, "errors": []},
            "versions": {"task": "synthetic", "grader": "synthetic", "suite": "synthetic"}}


def add_candidate(task_id: str, slug: str, name: str, email: str, *, stage: str = "graded",
                  score_share: float = 0.7, seed: int = 0, now: datetime | None = None,
                  artifacts_root: Path | None = None) -> Seeded:
    """One candidate at `stage` (invited, started, submitted or graded), with activity and a report when graded."""
    rng = random.Random(seed)
    now = now or utcnow()
    invited = now - timedelta(days=3, minutes=seed % 1000)
    started = invited + timedelta(hours=5)
    used = timedelta(minutes=40 + rng.randint(0, 75))
    with session_scope() as db:
        inv = Invitation(token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(), task_id=task_id,
                         candidate_name=name, candidate_email=email, created_at=invited,
                         expires_at=invited + timedelta(days=14))
        db.add(inv)
        db.flush()
        if stage == "invited":
            return Seeded(inv.id, None, None)
        running = stage == "started"
        events = [{"ts": started.timestamp() + 60 * m, "kind": "cell_executed", "cell_id": f"c{m}", "code_bytes": 80}
                  for m in range(2, int(used.total_seconds() // 60), 4)]
        events += [{"ts": started.timestamp() + 60 * m + 5, "kind": "save", "path": "triage.ipynb"}
                   for m in range(3, int(used.total_seconds() // 60), 7)]
        attempt = Attempt(invitation_id=inv.id, started_at=started, deadline=started + timedelta(hours=2),
                          status=AttemptStatus.running if running else AttemptStatus.submitted,
                          submitted_at=None if running else started + used, activity=events)
        db.add(attempt)
        db.flush()
        if running:
            return Seeded(inv.id, attempt.id, None)
        artifacts = (artifacts_root or Path("/nonexistent")) / attempt.id
        sub = Submission(attempt_id=attempt.id, task_id=task_id, artifacts_path=str(artifacts),
                         created_at=started + used,
                         status=SubmissionStatus.graded if stage == "graded" else SubmissionStatus.queued)
        db.add(sub)
        db.flush()
        if stage == "graded":
            body = report_body(sub.id, slug, score_share, rng)
            db.add(Report(submission_id=sub.id, version=1, score=body["score"], max_score=body["max_score"],
                          passed=body["passed"], body={**body, "version": 1}))
        return Seeded(inv.id, attempt.id, sub.id)
