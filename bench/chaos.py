"""Run the fault suite scenario by scenario with real components and print a table.

    .venv/bin/python bench/chaos.py                 # every scenario except the dockerd restart
    .venv/bin/python bench/chaos.py -k redis        # the scenarios whose name contains "redis"
    WORKSAMPLE_CHAOS_DOCKERD_RESTART='systemctl restart docker' .venv/bin/python bench/chaos.py -k dockerd

Each scenario is a pytest test (tests/chaos, and the fault tests other parts
already own) run in its own pytest process, so one that hangs or crashes does
not take the others with it. Every scenario checks the same invariants: nothing
saved is lost, each submission ends in exactly one report, no orphan container
or process. The dockerd restart runs only when WORKSAMPLE_CHAOS_DOCKERD_RESTART
names the command that restarts the engine: the engine may be shared.
"""

from __future__ import annotations

import argparse
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
     "tests/integration/attempts/test_deadlines.py::test_api_restart_loses_nothing_and_a_deadline_passed_while_down_is_honoured",
     "serve SIGKILL with an attempt open; its deadline passes while down"),
    ("database briefly locked", "tests/chaos/test_faults.py::test_database_briefly_locked",
     "EXCLUSIVE lock on the SQLite file for 4 s mid-grading"),
    ("mock crashed by candidate code", "tests/chaos/test_faults.py::test_mock_crashed_on_purpose_by_candidate_code",
     "the notebook floods its mock with 30 MB bodies"),
    ("grading pod's mock lost", "tests/integration/grading/test_pipeline.py::test_mock_lost_mid_run_is_retried_not_blamed_on_the_candidate",
     "the mock container is killed mid-run"),
    ("docker briefly down", "tests/integration/grading/test_pipeline.py::test_docker_briefly_down_is_retried_then_graded",
     "the engine's socket unreachable, then back"),
    ("dockerd restarted", "tests/chaos/test_faults.py::test_dockerd_restarted",
     "the engine restarts: every container dies (needs WORKSAMPLE_CHAOS_DOCKERD_RESTART)"),
]


def run(node: str, timeout: float, basetemp: Path) -> tuple[str, float, str]:
    """Run one scenario; (result, seconds, last line of pytest's summary)."""
    env = dict(os.environ, WORKSAMPLE_CHAOS="1")
    began = time.monotonic()
    try:  # a basetemp of its own: pytest's shared one may hold other users' trees
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                               f"--basetemp={basetemp}", node],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "TIMEOUT", time.monotonic() - began, ""
    took = time.monotonic() - began
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
    return result, took, summary


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
        result, took, summary = run(node, args.timeout, scratch / str(n))
        rows.append((name, result, took, what, summary))
    width = max((len(r[0]) for r in rows), default=10)
    print(f"{'scenario':<{width}}  {'result':<7}  {'time':>6}  fault / outcome")
    for name, result, took, what, summary in rows:
        print(f"{name:<{width}}  {result:<7}  {took:5.0f}s  {what}")
        if result != "pass":
            print(f"{'':<{width}}  {'':<7}  {'':>6}  → {summary}")
    return 0 if all(r[1] in ("pass", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
