"""`worksample grade PATH --task SLUG [--json]` and `worksample task test PATH`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from worksample.grading import local
from worksample.grading.report import dumps


def register(app: typer.Typer) -> None:
    """Mount `grade` at the top level of the CLI."""
    app.command("grade")(grade)


def grade(
    path: Path = typer.Argument(..., help="a submission folder (like /workspace) or one notebook"),
    task: str = typer.Option(..., "--task", help="task slug (under the tasks dir) or task folder"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Grade a folder or notebook locally through the grading pipeline and print the report.

    Exit status: 0 when a report was made (pass or not), 1 when grading itself failed.
    """
    report = local.grade_path(path, task)
    if as_json:
        print(dumps(report))
    else:
        print(format_report(report))
    if report.get("run", {}).get("status") == "error" and report.get("error"):
        sys.exit(1)


def format_report(report: dict) -> str:
    """A plain-text report: score, run status, LLM usage and a line per check."""
    run, llm = report.get("run", {}), report.get("llm", {})
    lines = [
        f"submission {report['submission_id']}  task {report.get('task')}",
        f"score {report['score']:g}/{report['max_score']:g}  {'PASSED' if report.get('passed') else 'NOT PASSED'}"
        f"  (threshold {report.get('pass_threshold')}%)",
        f"run {run.get('status')} in {run.get('duration_s', 0):.1f}s, {run.get('cells', 0)} cells"
        + (f"; {run['errors'][0]}" if run.get("errors") else ""),
    ]
    if llm:
        lines.append(f"llm {llm.get('calls', 0)} calls, {llm.get('retries', 0)} retries, "
                     f"{llm.get('rate_limited', 0)} rate-limited, ${llm.get('cost_usd', 0):.4f}, "
                     f"max {llm.get('max_in_flight', 0)} in flight")
    if report.get("error"):
        lines.append(f"error: {report['error']}")
    for check in report.get("checks", []):
        lines.append(f"  {check['status']:5} {check['points']:>6g}/{check['max_points']:<4g} {check['id']:<28} {check['message'][:90]}")
    return "\n".join(lines)


def task_test(path: Path = typer.Argument(..., help="task folder")) -> None:
    """Grade the task's solution/ and every baselines/*; fail unless the reference passes and baselines fail as named."""
    folder = local.task_folder(str(path))
    cands = local.solutions(folder)
    for cand in cands:
        print(f"grading {cand.name} …", file=sys.stderr)
        cand.report = local.grade_path(cand.path, str(folder), labels={"worksample.task_test": "1"})
    threshold = cands[0].report.get("pass_threshold") or 0
    print(format_table(cands))
    problems = local.verdicts(cands, threshold)
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        sys.exit(1)
    print("OK: the reference passes and every baseline fails the checks it names")


def format_table(cands: list[local.Solution]) -> str:
    """Checks × solutions: points per cell, `x` marking a check a baseline is expected to fail."""
    ids = [c["id"] for c in (cands[0].report or {}).get("checks", [])]
    for cand in cands[1:]:
        ids += [c["id"] for c in (cand.report or {}).get("checks", []) if c["id"] not in ids]
    width = max([len(i) for i in ids] + [10])
    head = f"{'check':<{width}} " + " ".join(f"{c.name[:12]:>12}" for c in cands)
    rows = [head, "-" * len(head)]
    for check_id in ids:
        cells = []
        for cand in cands:
            check = next((c for c in (cand.report or {}).get("checks", []) if c["id"] == check_id), None)
            mark = "x" if check_id in cand.expect_fail else " "
            text = f"{check['points']:g}/{check['max_points']:g}" if check else "-"
            cells.append(f"{text + mark:>12}")
        rows.append(f"{check_id:<{width}} " + " ".join(cells))
    totals = [f"{(c.report or {}).get('score', 0):g}/{(c.report or {}).get('max_score', 0):g}" for c in cands]
    rows.append(f"{'score':<{width}} " + " ".join(f"{t:>12}" for t in totals))
    return "\n".join(rows)
