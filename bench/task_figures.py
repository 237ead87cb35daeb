"""Figures of catalog tasks (issue 15): reference length, and the latest recorded `task test` per task.

    .venv/bin/worksample task test tasks/rag-repair --seeds 3 --record   # first, for the table
    .venv/bin/python bench/task_figures.py [SLUG ...]                    # default: churn-model rag-repair

Prints, per task:
- the reference's length: lines of code and of markdown in its notebook
  (solution/<entrypoint>), and how many code lines differ from the starter;
- the latest recorded calibration (`task test --record`): score and pass per
  candidate and seed, the worst margin, grading time per submission (mean and
  max over its seeds), and the problems it found.
"""

from __future__ import annotations

import argparse
import difflib
import json
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _code_lines(notebook: Path) -> tuple[list[str], int]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [ln.rstrip("\n") for c in cells if c["cell_type"] == "code" for ln in c["source"]]
    markdown = sum(len(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return [ln for ln in code if ln.strip()], markdown


def reference_length(slug: str) -> str:
    """The reference's code and markdown lines, and code lines changed from the starter."""
    import yaml

    task = REPO / "tasks" / slug
    entry = yaml.safe_load((task / "task.yaml").read_text())["workspace"]["entrypoint"]
    code, markdown = _code_lines(task / "solution" / entry)
    starter, _ = _code_lines(task / "starter" / entry)
    changed = sum(1 for ln in difflib.ndiff(starter, code) if ln[:2] in ("+ ", "- "))
    return (f"reference: {len(code)} non-blank code lines, {markdown} markdown lines "
            f"({changed} code lines added or removed against the starter's {len(starter)})")


def calibration_table(slug: str) -> str:
    """The latest recorded calibration of `slug`, as text (or why there is none)."""
    try:
        from worksample.grading.calibration import latest_calibrations

        cal = latest_calibrations().get(slug)
    except Exception as exc:  # noqa: BLE001 - a figure script: say why and go on
        return f"(no calibration: {type(exc).__name__}: {exc})"
    if cal is None:
        return f"(no calibration recorded: run `worksample task test tasks/{slug} --seeds 3 --record`)"
    lines = [f"calibration {cal['created_at']:%Y-%m-%d %H:%M} UTC, {cal['seeds']} seed(s), ok={cal['ok']}, "
             f"pass mark {cal['pass_threshold']}%, took {cal['duration_s']:.0f} s"]
    by_candidate: dict[str, list[dict]] = {}
    for r in cal["results"]:
        by_candidate.setdefault(r["candidate"], []).append(r)
    for name, rows in by_candidate.items():
        rows.sort(key=lambda r: r["seed"])
        seeds = "  ".join(f"s{r['seed']}: {r['score']:g}/{r['max_score']:g} {'PASS' if r['passed'] else 'fail'}"
                          for r in rows)
        times = [r["grading_s"] for r in rows]
        lines.append(f"  {name:<18} {seeds}  worst margin {min(r['margin'] for r in rows):+.1f}  "
                     f"grading {statistics.mean(times):.0f} s mean, {max(times):.0f} s max")
    lines += [f"  problem: {p}" for p in cal["problems"]]
    return "\n".join(lines)


def main() -> None:
    """Print the figures of each task named (default: the two tasks of issue 15)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slugs", nargs="*", default=["churn-model", "rag-repair"])
    for slug in parser.parse_args().slugs:
        print(f"== {slug}")
        print(reference_length(slug))
        print(calibration_table(slug))


if __name__ == "__main__":
    main()
