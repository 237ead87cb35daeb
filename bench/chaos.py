"""Run the fault suite scenario by scenario with real components and print a table.

    .venv/bin/python bench/chaos.py                 # every scenario
    .venv/bin/python bench/chaos.py -k redis        # the scenarios whose name contains "redis"

Each scenario is a pytest test (tests/chaos, and the fault tests other parts
already own) run in its own pytest process, so one that hangs or crashes does
not take the others with it. Every scenario checks the same invariants: nothing
saved is lost, each submission ends in exactly one report, no orphan container
or process. The tests of tests/chaos write what they saw to the file named by
WORKSAMPLE_CHAOS_RESULTS, and the table shows it: `lost` (saved files missing,
submissions with no report), `reports` (per submission), `orphans` (containers
or processes left). The dockerd restart runs against a private second dockerd
the test starts (the shared engine is never restarted); it needs root.
Each scenario's whole pytest output is kept in var/bench/chaos-<pid>/N.out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# (name, pytest node id, what breaks)
SCENARIOS = [
    ("worker kill -9 mid-grading", "tests/chaos/test_faults.py::test_worker_kill9_mid_grading",
     "worker SIGKILL; its horse dies with it; reconciler re-queues; lost pod removed"),
    ("redis killed and restarted", "tests/chaos/test_faults.py::test_redis_killed_and_restarted_under_a_live_worker",
     "redis-server SIGKILL mid-grading, restarted from its AOF"),
    ("API killed; deadline while down",
     "tests/chaos/test_faults.py::test_api_killed_while_grading_and_a_deadline_passes_while_down",
     "serve SIGKILL with an attempt open and gradings running; the attempt's deadline passes while it is down"),
    ("database briefly locked", "tests/chaos/test_faults.py::test_database_briefly_locked",
     "EXCLUSIVE lock on the SQLite file for 4 s mid-grading"),
    ("mock flooded by candidate code", "tests/chaos/test_faults.py::test_mock_flooded_by_candidate_code_sheds_load_and_survives",
     "the notebook floods its mock with 120 streamed 2 MiB bodies; graded once, not retried"),
    ("mock crashed by candidate code", "tests/chaos/test_faults.py::test_mock_crashed_on_purpose_by_candidate_code",
     "the notebook sends the prompt that crashes its mock (SIGSEGV); 3 tries, then an error report"),
    ("grading pod's mock lost", "tests/integration/grading/test_pipeline.py::test_mock_lost_mid_run_is_retried_not_blamed_on_the_candidate",
     "the mock container is killed mid-run"),
    ("docker briefly down", "tests/integration/grading/test_pipeline.py::test_docker_briefly_down_is_retried_then_graded",
     "the engine's socket unreachable, then back"),
    ("dockerd restarted", "tests/chaos/test_faults.py::test_dockerd_restarted",
     "a private dockerd restarts: every container dies; attempt and gradings on it"),
]


def run(node: str, timeout: float, basetemp: Path) -> tuple[str, float, str, dict]:
    """Run one scenario; (result, seconds, last line of pytest's summary, the figures it recorded)."""
    results = basetemp.parent / f"{basetemp.name}.json"
    env = dict(os.environ, WORKSAMPLE_CHAOS="1", WORKSAMPLE_CHAOS_RESULTS=str(results))
    began = time.monotonic()
    try:  # a basetemp of its own: pytest's shared one may hold other users' trees
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                               f"--basetemp={basetemp}", node],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "TIMEOUT", time.monotonic() - began, "", {}
    took = time.monotonic() - began
    (basetemp.parent / f"{basetemp.name}.out").write_text(proc.stdout + proc.stderr)  # the whole run, to read later
    figures = json.loads(results.read_text()) if results.is_file() else {}
    out = proc.stdout.strip().splitlines()
    summary = out[-1] if out else proc.stderr.strip()[-200:]
    if re.search(r"\b1 passed\b", summary):
        result = "pass"
    elif "skipped" in summary and "failed" not in summary:
        result = "skipped"
    else:
        result = "FAIL"
        failure = next((line for line in out if line.startswith("E ")), "")
        summary = failure[:160] or summary
    return result, took, summary, figures


def _reports(figures: dict) -> str:
    counts = figures.get("reports")
    if counts is None:
        return "-"
    return f"{counts[0]} each" if counts and len(set(counts)) == 1 else ",".join(map(str, counts)) or "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", default="", help="only scenarios whose name contains this")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per scenario")
    args = parser.parse_args()
    rows = []
    scratch = REPO / "var" / "bench" / f"chaos-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    for n, (name, node, what) in enumerate(SCENARIOS):
        if args.k and args.k not in name:
            continue
        print(f"… {name}", file=sys.stderr, flush=True)
        load_before = os.getloadavg()[0]
        result, took, summary, figures = run(node, args.timeout, scratch / str(n))
        figures["load"] = f"{load_before:.1f}→{os.getloadavg()[0]:.1f}"
        rows.append((name, result, took, what, summary, figures))
    width = max((len(r[0]) for r in rows), default=10)
    print(f"{'scenario':<{width}}  {'result':<7}  {'lost':>4}  {'reports/submission':<18}  {'orphans':>7}  {'time':>6}"
          f"  {'load 1m':<9}  fault")
    for name, result, took, what, summary, fig in rows:
        print(f"{name:<{width}}  {result:<7}  {fig.get('lost', '-'):>4}  {_reports(fig):<18}  {fig.get('orphans', '-'):>7}"
              f"  {took:5.0f}s  {fig['load']:<9}  {what}")
        if result != "pass":
            print(f"{'':<{width}}  → {summary}")
    print(f"(lost, reports and orphans as the test recorded them; '-': a test outside tests/chaos, which asserts"
          f" them itself; load: the 1-minute load average before → after the scenario, {os.cpu_count()} cores."
          f" Outputs in {scratch.relative_to(REPO)}/)")
    return 0 if all(r[1] in ("pass", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
