"""The grading timeouts, one ladder, each rung harder than the last and each derived from the task.

    cell  ≤  run  <  pod kill  <  job  <  worker watchdog

- cell: one notebook cell (nbclient's per-cell timeout), at most the run;
- run: the whole notebook, the task's `grading.timeout`;
- pod kill: the sandbox's own deadline for the grading pod (the reaper removes
  it after this): the run, plus the hidden suite, plus starting the pod and kernel;
  with `grading.rerun` the pod waits while a second pod starts and runs the
  notebook again, so it covers two runs and two starts;
- job: RQ's job timeout (RQ kills the work horse after it): the pod kill plus
  copying out (once per run) and storing the report;
- worker watchdog: the top of the ladder, fixed: no job timeout may reach it. (The worker also kills
  a work horse that shows no progress for `job_stall_s`, `worksample.jobs.watchdog`; that is a
  liveness check, not a rung.)

`task validate` refuses a `grading.timeout` whose ladder (with every run the
task asks for) does not fit under the watchdog (`ladder_problem`), so no task
can give its pod longer than the queue gives its job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CELL_S = 600.0  # default per-cell limit (a cell may not take the whole run by itself)
GRADER_S = 300.0  # the hidden suite's own limit
POD_START_S = 120.0  # pod create, mock listening, kernel ready, copy-in
COLLECT_S = 180.0  # copy-out, mock log, report stored
WATCHDOG_S = 3600  # no grading job may run longer, whatever the task says


def max_run_s(runs: int = 1) -> int:
    """The longest grading.timeout (whole seconds) whose ladder fits with `runs` runs of the notebook."""
    return math.ceil((WATCHDOG_S - GRADER_S) / runs - POD_START_S - COLLECT_S) - 1


MAX_RUN_S = max_run_s(1)  # the longest grading.timeout that fits


@dataclass(frozen=True)
class Ladder:
    """The grading timeouts of one task, in seconds, innermost first."""

    cell: float
    run: float
    pod_kill: float
    job: int
    watchdog: int
    runs: int = 1  # runs of the notebook per grading: 2 with grading.rerun; `run` is each one's limit

    def holds(self) -> bool:
        """True if every rung is at least as long as the one inside it and the job ends before the watchdog."""
        return self.runs >= 1 and 0 < self.cell <= self.run < self.pod_kill < self.job < self.watchdog


def grading_ladder(run_s: float, cell_s: float = CELL_S, runs: int = 1) -> Ladder:
    """The ladder for a grading of `runs` runs of at most `run_s` seconds each (the task's grading.timeout;
    runs=2 with grading.rerun). The grading pod's deadline covers every run and every pod start, since it
    waits, its grader idle, while a later run starts a pod of its own; the job adds a collection per run."""
    run = float(run_s)
    pod_kill = runs * (run + POD_START_S) + GRADER_S
    return Ladder(cell=min(float(cell_s), run), run=run, pod_kill=pod_kill,
                  job=math.ceil(pod_kill + runs * COLLECT_S), watchdog=WATCHDOG_S, runs=runs)


def ladder_problem(run_s: float, runs: int = 1) -> str | None:
    """Why a grading.timeout of `run_s` seconds, run `runs` times per grading, cannot be held by the ladder, or None."""
    ladder = grading_ladder(run_s, runs=runs)
    if ladder.holds():
        return None
    times = f" for {runs} runs (grading.rerun)" if runs > 1 else ""
    return (f"{run_s:.0f}s is too long{times}: with the suite ({GRADER_S:.0f}s), pod start ({POD_START_S:.0f}s) "
            f"and collection ({COLLECT_S:.0f}s) the job would need {ladder.job}s, which does not fit under the "
            f"worker watchdog's {WATCHDOG_S}s; at most {max_run_s(runs) // 60:.0f}m")


DEFAULT_JOB_S = grading_ladder(MAX_RUN_S).job  # for a job whose task is unknown: enough for any valid task
