"""The report (DESIGN §9): assembled from the suite's result, the run record and the mock's log.

The score is recomputed here from the checks (points never exceed max_points,
only `pass` earns), so the report depends on nothing but what the grader
container observed and what the host-side runner recorded.

Gates (checks marked `@pytest.mark.gate` in the suite): a gate that did not
pass makes `passed` false whatever the points. Failed gates come first in
`checks` and are listed in `gates_failed`, so a reader meets them first.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from worksample.grading.suite import GRADERS_ROOT
from worksample_grader import runfolder as rf

REPORT_SCHEMA = "worksample-report/1"
TIMELINE_CAP = 5000
STATUSES = ("pass", "fail", "error")


def tree_hash(*roots: Path) -> str:
    """A short content hash of the files under `roots` (names and bytes), ignoring caches."""
    digest = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def clean_checks(raw: list[dict]) -> list[dict]:
    """Checks with known statuses and points clamped to [0, max_points] (0 unless passed)."""
    checks = []
    for item in raw:
        status = item.get("status") if item.get("status") in STATUSES else "error"
        max_points = max(0.0, float(item.get("max_points") or 0))
        points = min(max_points, max(0.0, float(item.get("points") or 0))) if status == "pass" else 0.0
        checks.append({"id": str(item.get("id"))[:200], "title": str(item.get("title") or item.get("id"))[:300],
                       "group": str(item.get("group") or "task")[:100], "points": round(points, 3),
                       "max_points": round(max_points, 3), "status": status,
                       "message": str(item.get("message") or "")[:1000], "gate": item.get("gate") is True})
    return checks


def failed_gates_first(checks: list[dict]) -> list[dict]:
    """The checks with failed gates moved to the front (stable: otherwise the suite's order)."""
    return sorted(checks, key=lambda c: 0 if c["gate"] and c["status"] != "pass" else 1)


def llm_block(calls_path: Path) -> tuple[dict, list[list]]:
    """The report's `llm` block and a compact timeline `[t_rel_s, status, fault, retry, cost_usd]` per call.

    A retry is a repeat of the same logical request (a nonce in the body does not hide it).
    """
    from worksample_grader import llmlog

    if not calls_path.is_file():
        log = llmlog.CallLog([])
    else:
        log = llmlog.load(calls_path, bodies=llmlog.load_bodies(calls_path.with_name(rf.BODIES_FILE)))
    calls = sorted(log.calls, key=lambda c: c.ts)
    t0 = calls[0].ts if calls else 0.0
    seen: set[tuple] = set()
    timeline = []
    for call in calls[:TIMELINE_CAP]:
        key = (call.key_hash, call.logical)
        timeline.append([round(call.ts - t0, 3), call.status, call.fault, key in seen and not call.free,
                         round(call.cost_usd, 8)])
        seen.add(key)
    return llmlog.summarize(log), timeline


def build_report(*, submission_id: str, task: dict, task_dir: Path, result: dict, run: dict,
                 run_dir: Path) -> dict:
    """The full report body for one grading run."""
    checks = failed_gates_first(clean_checks(result.get("checks", [])))
    score = round(sum(c["points"] for c in checks), 3)
    max_score = round(sum(c["max_points"] for c in checks), 3)
    threshold = float(task.get("grading", {}).get("pass_threshold", 100))
    gates_failed = [c["id"] for c in checks if c["gate"] and c["status"] != "pass"]
    llm, timeline = llm_block(run_dir / rf.MOCK_DIR / rf.CALLS_FILE)
    return {
        "schema": REPORT_SCHEMA,
        "submission_id": submission_id,
        "task": task.get("slug"),
        "score": score,
        "max_score": max_score,
        "passed": bool(max_score > 0 and 100 * score / max_score >= threshold and not gates_failed),
        "pass_threshold": threshold,
        "gates_failed": gates_failed,
        "checks": checks,
        "llm": llm,
        "run": run,
        "timeline": timeline,
        "versions": {"task": tree_hash(task_dir), "grader": tree_hash(GRADERS_ROOT / "worksample_grader"),
                     "suite": tree_hash(task_dir / "grader")},
    }


def error_report(submission_id: str, task_slug: str | None, message: str) -> dict:
    """The one report of a submission that could not be graded (infrastructure gave up, grader broke)."""
    return {
        "schema": REPORT_SCHEMA, "submission_id": submission_id, "task": task_slug, "score": 0.0, "max_score": 0.0,
        "passed": False, "pass_threshold": None, "gates_failed": [], "checks": [], "llm": {}, "timeline": [],
        "run": {"status": "error", "duration_s": 0, "cells": 0, "errors": [message]}, "versions": {},
        "error": message,
    }


def dumps(report: dict) -> str:
    """The report as pretty JSON (what `worksample grade --json` prints)."""
    return json.dumps({k: v for k, v in report.items() if k != "timeline"}, indent=2)
