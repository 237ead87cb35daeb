"""Place the grader's scoring curves: the naive baselines' level (0 points) and the reference's (full points).

    python tasks/support-ticket-triage/tools/calibrate.py [--reference RUN_DIR ...]

Writes grader/data/calibration.json and baselines/lookup/labels_by_subject.json.

- naive: the best of keyword rules (the `keyword_rules` baseline's own rules
  cell), a subject lookup in the public labels (the `lookup` baseline) and the
  majority class, on the hold-out set: category macro-F1 and priority
  accuracy with a missed P1 weighing 3, plus NAIVE_MARGIN. No LLM is
  involved, so this is exact.
- reference: measured from run folders of the reference graded through the
  real pipeline (`worksample task test --seeds 3` prints their run_dir):
  the lowest F1 and priority score over the runs, rounded down (so the
  reference earns full points under every seed, 0 being the one grading
  uses), and the mean cost per ticket. No tolerance: the mock keys faults by
  logical request and attempt, so a regrade reproduces each run's labels
  and scores exactly (tests/integration/tasks/test_triage_pipeline.py). Without
  --reference the reference values already in the file are kept.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TASK_DIR.parents[1] / "graders"))

from worksample_grader.tasktools import load_module, parse_cells  # noqa: E402
from worksample_grader.scoring import macro_f1, weighted_accuracy  # noqa: E402

# Loaded by path under a name of its own: other tasks' tools have a build_notebooks.py too.
build = load_module("tools_support_ticket_triage_build_notebooks", TASK_DIR / "tools" / "build_notebooks.py")

CATEGORIES = ("billing", "bug", "account_access", "feature_request", "outage", "security", "how_to")
P1_WEIGHT = 3.0  # as in grader/test_triage.py
# The curve's zero sits this far above the best naive approach, so variants of it earn nothing either.
NAIVE_MARGIN = 0.02
OUT = TASK_DIR / "grader" / "data" / "calibration.json"
LOOKUP = TASK_DIR / "baselines" / "lookup" / "labels_by_subject.json"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def keyword_rules():
    """The `keyword_label` function of the keyword_rules baseline, from its rules cell."""
    cells = parse_cells(build.source_of("keyword_rules"))
    source = next(src for kind, src in cells if kind == "code" and src.startswith("# rules"))
    namespace: dict = {}
    exec(compile(source, "keyword_rules.py", "exec"), namespace)  # our own file, not candidate code
    return namespace["keyword_label"]


def subject_table() -> dict[str, list[str]]:
    """Lower-cased public subject → [category, priority] (the first label seen for a subject)."""
    labels = {r["id"]: r for r in _rows(TASK_DIR / "grader" / "data" / "public_labels.csv")}
    table: dict[str, list[str]] = {}
    for ticket in _rows(TASK_DIR / "data" / "tickets.csv"):
        table.setdefault(ticket["subject"].lower().strip(), [labels[ticket["id"]]["category"], labels[ticket["id"]]["priority"]])
    return table


def score(predicted: dict[str, tuple[str, str]], labels: dict[str, dict], rounded=lambda x: round(x, 4)) -> dict:
    """Category macro-F1 and weighted priority accuracy of `predicted` (id → (category, priority))."""
    ids = sorted(labels)
    cats = [predicted.get(i, ("", ""))[0] for i in ids]
    pris = [predicted.get(i, ("", ""))[1] for i in ids]
    return {"category_f1": rounded(macro_f1([labels[i]["category"] for i in ids], cats, CATEGORIES)),
            "priority": rounded(weighted_accuracy([labels[i]["priority"] for i in ids], pris, {"P1": P1_WEIGHT}))}


def naive_levels(tickets: list[dict], labels: dict[str, dict]) -> dict:
    """Each naive approach's scores on the hold-out and the best of them."""
    rule = keyword_rules()
    table = subject_table()

    def lookup(subject: str) -> tuple[str, str]:
        key = subject.lower().removeprefix("re: ").removeprefix("fwd: ").removeprefix("still waiting: ").strip()
        return tuple(table.get(key, ("how_to", "P4")))

    approaches = {
        "keyword_rules": {t["id"]: rule(t["subject"], t["body"]) for t in tickets},
        "subject_lookup": {t["id"]: lookup(t["subject"]) for t in tickets},
        "majority": {t["id"]: ("bug", "P3") for t in tickets},
    }
    scores = {name: score(pred, labels) for name, pred in approaches.items()}
    best = {k: round(max(s[k] for s in scores.values()) + NAIVE_MARGIN, 4) for k in ("category_f1", "priority")}
    return {**best, "approaches": scores}


def _floor(value: float) -> float:
    """`value` rounded down to 4 places: rounding up would put full points just above the reference's own level."""
    return math.floor(value * 10_000) / 10_000


def reference_levels(run_dirs: list[Path], labels: dict[str, dict]) -> dict:
    """The reference's lowest scores and mean cost per ticket over graded run folders."""
    f1s, pris, costs = [], [], []
    for run in run_dirs:
        preds = {r["id"]: (r["category"], r["priority"]) for r in _rows(run / "outputs" / "triage.csv")}
        s = score(preds, labels, rounded=_floor)
        f1s.append(s["category_f1"])
        pris.append(s["priority"])
        calls = [json.loads(line) for line in (run / "mock" / "calls.jsonl").read_text().splitlines() if line.strip()]
        costs.append(sum(float(c.get("cost_usd") or 0) for c in calls) / len(labels))
    return {"category_f1": _floor(min(f1s)), "priority": _floor(min(pris)), "cost_per_ticket_usd": round(sum(costs) / len(costs), 8),
            "runs": [{"category_f1": f, "priority": p, "cost_per_ticket_usd": round(c, 8)} for f, p, c in zip(f1s, pris, costs)]}


def main(argv: list[str] | None = None) -> None:
    """Compute and write calibration.json (and the lookup baseline's table)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, nargs="*", default=[], help="run folders of graded reference runs")
    args = parser.parse_args(argv)
    tickets = _rows(TASK_DIR / "grader" / "data" / "holdout" / "tickets.csv")
    labels = {r["id"]: r for r in _rows(TASK_DIR / "grader" / "data" / "holdout_labels.csv")}
    old = json.loads(OUT.read_text()) if OUT.is_file() else {}
    reference = reference_levels(args.reference, labels) if args.reference else old.get("reference")
    if reference is None:
        raise SystemExit("no reference levels yet: pass --reference RUN_DIR (from `worksample task test`)")
    data = {"naive": naive_levels(tickets, labels), "reference": reference,
            "note": "written by tools/calibrate.py; regenerate after changing the data, the oracle or the reference"}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    LOOKUP.write_text(json.dumps(subject_table(), indent=0, sort_keys=True) + "\n")
    print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
