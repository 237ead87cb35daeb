"""Figures for the flagship's validity (issue 10): hold-out overlap before/after, naive accuracy, calibration.

    .venv/bin/python bench/validity_figures.py [--before COMMIT]

Prints:
- overlap of the hold-out with the public tickets (shared subjects, share of
  distinct word 4-grams) for the hold-out at COMMIT (default: 0465df5, before
  the regeneration) and now;
- accuracy and macro-F1 of the keyword rules and of the subject lookup on
  both hold-outs (no LLM: exact);
- the latest recorded `worksample task test --record` of the flagship, if
  any: score and pass per candidate and seed, margins, grading time.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TASK = REPO / "tasks" / "support-ticket-triage"
REL_TICKETS = "tasks/support-ticket-triage/grader/data/holdout/tickets.csv"
REL_LABELS = "tasks/support-ticket-triage/grader/data/holdout_labels.csv"


def _csv_text(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _at(commit: str, rel: str) -> list[dict]:
    return _csv_text(subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{rel}"], check=True,
                                    capture_output=True, text=True).stdout)


def _grams(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + 4]) for i in range(len(words) - 3)}


def overlap(public: list[dict], holdout: list[dict]) -> tuple[int, float]:
    """(hold-out tickets whose subject is a public subject, share of distinct hold-out 4-grams in public text)."""
    subjects = {r["subject"].strip().lower() for r in public}
    shared = sum(r["subject"].strip().lower() in subjects for r in holdout)
    pub = set().union(*(_grams(f"{r['subject']} {r['body']}") for r in public))
    held = set().union(*(_grams(f"{r['subject']} {r['body']}") for r in holdout))
    return shared, len(held & pub) / len(held)


def naive(tickets: list[dict], labels: list[dict]) -> dict[str, dict]:
    """Accuracy and macro-F1 of keyword rules and subject lookup on a hold-out."""
    spec = importlib.util.spec_from_file_location("calibrate", TASK / "tools" / "calibrate.py")
    calibrate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(calibrate)
    by_id = {r["id"]: r for r in labels}
    scores = calibrate.naive_levels(tickets, by_id)["approaches"]
    rule, table = calibrate.keyword_rules(), calibrate.subject_table()
    preds = {"keyword_rules": {t["id"]: rule(t["subject"], t["body"])[0] for t in tickets},
             "subject_lookup": {t["id"]: tuple(table.get(t["subject"].lower().removeprefix("re: ").removeprefix("fwd: ")
                                                         .removeprefix("still waiting: ").strip(), ("how_to", "P4")))[0]
                                for t in tickets}}
    for name, pred in preds.items():
        scores[name]["accuracy"] = round(sum(pred[i] == by_id[i]["category"] for i in pred) / len(pred), 3)
    return scores


def calibration_table() -> str:
    """The latest recorded calibration of the flagship, as text (or why there is none)."""
    try:
        from worksample.db import migrate
        from worksample.grading.calibration import latest_calibrations

        migrate()
        cal = latest_calibrations().get("support-ticket-triage")
    except Exception as exc:  # the figures above stand on their own
        return f"(no calibration: {type(exc).__name__}: {exc})"
    if not cal:
        return "(no calibration recorded: run `worksample task test tasks/support-ticket-triage --seeds 3 --record`)"
    lines = [f"calibration {cal['created_at']:%Y-%m-%d %H:%M} UTC, {cal['seeds']} seed(s), ok={cal['ok']}, "
             f"{cal['duration_s']:.0f}s in all"]
    for r in sorted(cal["results"], key=lambda r: (r["candidate"] != "solution", r["candidate"], r["seed"])):
        lines.append(f"  {r['candidate']:<18} seed {r['seed']}  {r['score']:>6.1f}/{r['max_score']:g}  "
                     f"{'PASS' if r['passed'] else 'fail'}  margin {r['margin']:+.1f}  graded in {r['grading_s']:.0f}s"
                     + (f"  gates failed: {', '.join(r['gates_failed'])}" if r["gates_failed"] else ""))
    times = [r["grading_s"] for r in cal["results"]]
    lines.append(f"  grading time per submission: mean {sum(times) / len(times):.0f}s, max {max(times):.0f}s")
    return "\n".join(lines)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="0465df5", help="commit with the old hold-out")
    args = parser.parse_args()
    public = _csv_text((TASK / "data" / "tickets.csv").read_text(encoding="utf-8"))
    sets = {f"before ({args.before})": (_at(args.before, REL_TICKETS), _at(args.before, REL_LABELS)),
            "now": (_csv_text((REPO / REL_TICKETS).read_text(encoding="utf-8")),
                    _csv_text((REPO / REL_LABELS).read_text(encoding="utf-8")))}
    for name, (tickets, labels) in sets.items():
        shared, share = overlap(public, tickets)
        print(f"hold-out {name}: {shared}/{len(tickets)} subjects shared with the public set, "
              f"{share:.1%} of distinct word 4-grams shared")
        for approach, s in naive(tickets, labels).items():
            if approach == "majority":
                continue
            print(f"  {approach:<15} accuracy {s['accuracy']:.3f}  category macro-F1 {s['category_f1']:.3f}  "
                  f"priority (P1 x3) {s['priority']:.3f}")
    print(calibration_table())


if __name__ == "__main__":
    main()
