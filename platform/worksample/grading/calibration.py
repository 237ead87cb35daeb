"""Task calibration (DESIGN §13): grade the reference and every baseline under N seeds, judge, table, record.

`calibrate(folder, seeds)` grades each (candidate, seed) through the real
pipeline (`local.grade_path`: a submission row, a grading pod, the hidden
suite), several at once in worker processes, and returns a `Calibration`
whose `problems` are empty when:
- the reference passes under every seed;
- every baseline is *not passed* under every seed and fails, under every
  seed, each check its baseline.yaml names;
- every baseline scores below the reference under the same seed.
Margins say how far each candidate is from the pass mark, in percent of the
maximum (positive = on the right side). `record` stores it in the
`calibrations` table; `latest_calibrations` reads the newest per task for
the catalog page.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from worksample.db import migrate, session_scope
from worksample.db.models import Calibration as CalibrationRow
from worksample.grading import local, submissions

SEED_LABEL = "worksample.seed"  # read by grading.grade: the grading mock's seed


@dataclass
class Graded:
    """One candidate graded under one seed: the parts of its report calibration needs."""

    candidate: str
    seed: int
    score: float
    max_score: float
    passed: bool
    pass_threshold: float
    checks: dict[str, str]  # check id → status
    gates_failed: list[str]
    run_status: str
    grading_s: float  # wall time of the whole grading (pod, run, suite)
    cost_usd: float
    run_dir: str = ""

    @property
    def percent(self) -> float:
        """Score in percent of the maximum."""
        return 100 * self.score / self.max_score if self.max_score else 0.0

    def margin(self, reference: bool) -> float:
        """Percentage points on the right side of the pass mark (negative: on the wrong side)."""
        return self.percent - self.pass_threshold if reference else self.pass_threshold - self.percent

    def public(self, reference: bool) -> dict:
        """What is stored and shown."""
        return {"candidate": self.candidate, "seed": self.seed, "score": self.score, "max_score": self.max_score,
                "passed": self.passed, "margin": round(self.margin(reference), 2), "gates_failed": self.gates_failed,
                "run_status": self.run_status, "grading_s": round(self.grading_s, 1), "cost_usd": self.cost_usd,
                "failed": sorted(k for k, v in self.checks.items() if v != "pass")}


@dataclass
class Calibration:
    """The outcome of one `task test`."""

    task_slug: str
    task_version: str
    seeds: list[int]
    candidates: list[local.Solution]
    graded: list[Graded] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing is wrong with the task's calibration."""
        return not self.problems

    @property
    def threshold(self) -> float:
        """The task's pass threshold (percent)."""
        return max((g.pass_threshold for g in self.graded), default=0.0)

    def of(self, name: str) -> list[Graded]:
        """The gradings of one candidate, by seed."""
        return sorted((g for g in self.graded if g.candidate == name), key=lambda g: g.seed)


INFRA_TRIES = 3  # gradings of one (candidate, seed) lost to infrastructure faults before it counts as an error


def _grade_one(path: str, folder: str, seed: int, name: str) -> Graded:
    """Worker-process body: grade one candidate under one seed through the real pipeline.

    An infrastructure fault (a pod that did not start on a loaded host) is
    retried with a fresh submission, as the queue would; after INFRA_TRIES it
    is recorded as an `error` grading so one bad pod cannot sink the whole
    calibration.
    """
    from worksample.errors import InfrastructureError

    started = time.monotonic()
    labels = {"worksample.task_test": "1", SEED_LABEL: str(seed)}
    for attempt in range(INFRA_TRIES):
        try:
            report = local.grade_path(Path(path), folder, labels=labels)
            break
        except InfrastructureError as exc:
            if attempt == INFRA_TRIES - 1:
                report = {"score": 0, "max_score": 0, "passed": False, "checks": [], "gates_failed": [],
                          "run": {"status": f"error: {type(exc).__name__}: {exc}"[:300]}, "llm": {}}
            else:
                time.sleep(5)
    return Graded(
        candidate=name, seed=seed, score=float(report.get("score") or 0), max_score=float(report.get("max_score") or 0),
        passed=bool(report.get("passed")), pass_threshold=float(report.get("pass_threshold") or 0),
        checks={c["id"]: c["status"] for c in report.get("checks", [])}, gates_failed=list(report.get("gates_failed", [])),
        run_status=str(report.get("run", {}).get("status")), grading_s=time.monotonic() - started,
        cost_usd=float(report.get("llm", {}).get("cost_usd") or 0), run_dir=str(report.get("run_dir", "")),
    )


def calibrate(folder: Path, seeds: int = 1, workers: int = 2, only: list[str] | None = None) -> Calibration:
    """Grade the reference and baselines (or `only` those named) under seeds 0..seeds-1 and judge them."""
    from worksample.grading.report import tree_hash

    started = time.monotonic()
    migrate()  # once here, so the workers find the schema current
    cands = [c for c in local.solutions(folder) if not only or c.name in only or c.name == "solution"]
    task = submissions.register_task(folder)
    cal = Calibration(task.slug, tree_hash(folder), list(range(seeds)), cands)
    jobs = [(str(c.path), str(folder), seed, c.name) for seed in cal.seeds for c in cands]
    # Spawned processes: each grading gets a clean interpreter (no forked locks, no shared DB connections).
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn")) as pool:
        cal.graded = list(pool.map(_grade_one, *zip(*jobs)))
    cal.problems = judge(cal)
    cal.duration_s = time.monotonic() - started
    return cal


def judge(cal: Calibration) -> list[str]:
    """Everything wrong with a calibration (empty when the reference passes and every baseline fails as named)."""
    problems = [f"{g.candidate}: seed {g.seed}: grading failed ({g.run_status})" for g in cal.graded
                if g.run_status.startswith("error")]
    reference = {g.seed: g for g in cal.of("solution")}
    for g in reference.values():
        if not g.passed:
            why = f"; gates failed: {', '.join(g.gates_failed)}" if g.gates_failed else ""
            problems.append(f"solution: not passed under seed {g.seed} ({g.score:g}/{g.max_score:g}{why})")
    for cand in cal.candidates[1:]:
        for g in cal.of(cand.name):
            if g.passed:
                problems.append(f"{cand.name}: passed under seed {g.seed} ({g.score:g}/{g.max_score:g})")
            for check_id in cand.expect_fail:
                if check_id not in g.checks:
                    problems.append(f"{cand.name}: expect_fail names unknown check {check_id!r}")
                elif g.checks[check_id] == "pass":
                    problems.append(f"{cand.name}: check {check_id} passed under seed {g.seed} "
                                    "but baseline.yaml expects it to fail")
            ref = reference.get(g.seed)
            if ref and g.score >= ref.score:
                problems.append(f"{cand.name}: scores {g.score:g} under seed {g.seed}, not below the reference's {ref.score:g}")
    return list(dict.fromkeys(problems))


def format_table(cal: Calibration) -> str:
    """One row per candidate: score and pass per seed, the worst margin, mean grading time."""
    head = f"{'candidate':<18} " + " ".join(f"{'seed ' + str(s):>16}" for s in cal.seeds)
    head += f" {'margin':>8} {'grading':>8}"
    rows = [head, "-" * len(head)]
    for cand in cal.candidates:
        graded = cal.of(cand.name)
        cells = [f"{g.score:>7.1f}/{g.max_score:<5g}{'PASS' if g.passed else 'fail':>4}" for g in graded]
        reference = cand.name == "solution"
        margin = min((g.margin(reference) for g in graded), default=0.0)
        mean_s = sum(g.grading_s for g in graded) / len(graded) if graded else 0.0
        gates = sorted({gate for g in graded for gate in g.gates_failed})
        rows.append(f"{cand.name:<18} " + " ".join(f"{c:>16}" for c in cells) + f" {margin:>+7.1f}% {mean_s:>7.0f}s"
                    + (f"  failed gates: {', '.join(gates)}" if gates else ""))
    rows.append(f"pass mark {cal.threshold:g}%; margin = percentage points of score on the right side of it "
                "(reference above, baselines below), worst seed; a failed gate means not passed whatever the score")
    return "\n".join(rows)


def record(cal: Calibration) -> str:
    """Store the calibration; returns its id."""
    with session_scope() as db:
        row = CalibrationRow(
            task_slug=cal.task_slug, task_version=cal.task_version, seeds=len(cal.seeds), ok=cal.ok,
            pass_threshold=cal.threshold, problems=cal.problems, duration_s=round(cal.duration_s, 1),
            results=[g.public(g.candidate == "solution") for g in cal.graded])
        db.add(row)
        db.flush()
        return row.id


def latest_calibrations() -> dict[str, dict]:
    """The newest recorded calibration of each task, by slug: {ok, seeds, pass_threshold, results, problems, created_at}.

    For the catalog page: `results` has one entry per (candidate, seed) with
    score, max_score, passed and margin.
    """
    out: dict[str, dict] = {}
    with session_scope() as db:
        for row in db.scalars(select(CalibrationRow).order_by(CalibrationRow.created_at.desc())):
            if row.task_slug in out:
                continue
            out[row.task_slug] = {"id": row.id, "ok": row.ok, "seeds": row.seeds, "pass_threshold": row.pass_threshold,
                                  "task_version": row.task_version, "results": row.results, "problems": row.problems,
                                  "duration_s": row.duration_s, "created_at": row.created_at}
    return out
