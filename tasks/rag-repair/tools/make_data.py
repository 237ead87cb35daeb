"""Write the task's data from a seed: the public handbook and questions, the hidden edition and keys.

    python tasks/rag-repair/tools/make_data.py [--out DIR]   # DIR defaults to the task folder

Public (data/, mounted read-only for the candidate):
- handbook/HB-NNNN.md: 200 pages, `# title`, blank line, text;
- questions.jsonl: {question_id, question}: 60 questions, 15 of them unanswerable;
- spot_checks.jsonl: {question_id, expected}: what the support lead expects for 8 of them.
Hidden (grader/data/):
- holdout/handbook/, holdout/questions.jsonl: another edition of the handbook (other subjects)
  and 48 questions in other phrasings (pairs sharing a long prefix, two repeats, 12 unanswerable);
- holdout_key.jsonl, public_key.jsonl: each question's key (answerable, answer, gold page and sentence);
- holdout_facts.jsonl, public_facts.jsonl: every fact each page states (page, attribute, value, sentence).
Regenerate rather than edit; calibration.json depends on these files (tools/calibrate.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
SEED_PUBLIC, SEED_HOLDOUT = 1501, 7307


def _sibling(name: str):
    """A module of this tools/ folder loaded by path (other tasks' tools have modules of the same names)."""
    spec = importlib.util.spec_from_file_location(f"tools_rag_repair_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


hb = _sibling("handbook")


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _write_handbook(folder: Path, pages) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for page in pages:
        (folder / f"{page.id}.md").write_text(f"# {page.title}\n\n{page.text}\n", encoding="utf-8")


def _facts(pages) -> list[dict]:
    return [{"page": p.id, "subject": p.subject, "attribute": a, "value": v, "sentence": s}
            for p in pages for a, (v, s) in sorted(p.facts.items())]


def build() -> dict[str, list]:
    """Generate both editions and their questions (no files written)."""
    public_pages, public_pools = hb.make_handbook(SEED_PUBLIC, half=0)
    hidden_pages, hidden_pools = hb.make_handbook(SEED_HOLDOUT, half=1)
    public_q = hb.make_questions(public_pages, public_pools, SEED_PUBLIC, hb.PUBLIC_ASKS, hb.MISSING_ASKS_PUBLIC,
                                 n_answerable=45, n_unknown_subject=8, n_missing_fact=7, paired=False, prefix="Q-")
    hidden_q = hb.make_questions(hidden_pages, hidden_pools, SEED_HOLDOUT, hb.HOLDOUT_ASKS, hb.MISSING_ASKS_HOLDOUT,
                                 n_answerable=34, n_unknown_subject=6, n_missing_fact=6, paired=True, prefix="H-")
    return {"public_pages": public_pages, "hidden_pages": hidden_pages, "public_q": public_q, "hidden_q": hidden_q}


def main() -> None:
    """Write every data file of the task (under --out, default the task folder)."""
    parser = argparse.ArgumentParser(description="Write the task's data from a seed.")
    parser.add_argument("--out", type=Path, default=TASK_DIR)
    out = parser.parse_args().out
    built = build()
    data, hidden = out / "data", out / "grader" / "data"
    _write_handbook(data / "handbook", built["public_pages"])
    _write_handbook(hidden / "holdout" / "handbook", built["hidden_pages"])
    public_q, hidden_q = built["public_q"], built["hidden_q"]
    _jsonl(data / "questions.jsonl", [{"question_id": q["question_id"], "question": q["question"]} for q in public_q])
    spots = [q for q in public_q if q["answerable"]][:6] + [q for q in public_q if not q["answerable"]][:2]
    _jsonl(data / "spot_checks.jsonl", [{"question_id": q["question_id"], "expected": q["answer"]} for q in spots])
    _jsonl(hidden / "holdout" / "questions.jsonl",
           [{"question_id": q["question_id"], "question": q["question"]} for q in hidden_q])
    _jsonl(hidden / "public_key.jsonl", public_q)
    _jsonl(hidden / "holdout_key.jsonl", hidden_q)
    _jsonl(hidden / "public_facts.jsonl", _facts(built["public_pages"]))
    _jsonl(hidden / "holdout_facts.jsonl", _facts(built["hidden_pages"]))
    print(f"{len(built['public_pages'])} public pages, {len(public_q)} public questions; "
          f"{len(built['hidden_pages'])} hidden pages, {len(hidden_q)} hidden questions")


if __name__ == "__main__":
    main()
