"""Place the grader's curves: the unfixed starter's level (no points) and the reference's (full points).

    python tasks/rag-repair/tools/calibrate.py [--seeds 3]

Runs the unfixed starter and the reference (their notebooks' code as scripts) on the hidden
edition against a real mock (`python -m worksample.mockllm serve`, the grading profile and
the oracle) under mock seeds 0..N-1, as `worksample task test --seeds N` does, and measures
them with the suite's own `grader/metrics.py`. Writes grader/data/calibration.json:
- floor: the starter's highest level over the seeds plus FLOOR_MARGIN (0 points there);
- full: the reference's lowest level minus REFERENCE_TOLERANCE (full points there), so the
  reference earns full points under every seed and on a regrade;
- the reference's mean cost per question (the cost check's yardstick).
No Docker; about a minute a run. Run it after changing the data, the oracle, the profile,
the starter or the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
REPO = TASK_DIR.parents[1]
HIDDEN = TASK_DIR / "grader" / "data"
OUT = HIDDEN / "calibration.json"
FLOOR_MARGIN = 0.08  # the starter's level depends on which questions meet the outage: timing, not seed
REFERENCE_TOLERANCE = 0.05
MEASURES = ("accuracy", "citation_precision", "recall")
sys.path.insert(0, str(REPO / "graders"))


from worksample_grader.tasktools import code_of, load_module  # noqa: E402

build = load_module("tools_rag_repair_build_notebooks", TASK_DIR / "tools" / "build_notebooks.py")
metrics = load_module("rag_repair_metrics", TASK_DIR / "grader" / "metrics.py")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.exists() else []


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_candidate(name: str, seed: int, work: Path) -> Path:
    """Run notebook `name`'s code on the hidden edition against a fresh mock; the workspace folder."""
    code = code_of(build.source_of(name))
    ws = work / f"{name}-{seed}"
    shutil.copytree(HIDDEN / "holdout", ws / "data")
    (ws / "run.py").write_text(code, encoding="utf-8")
    port = _port()
    mock = subprocess.Popen([sys.executable, "-m", "worksample.mockllm", "serve", "--profile",
                             str(TASK_DIR / "profiles" / "grading.yaml"), "--port", str(port), "--log",
                             str(ws / "mock" / "calls.jsonl"), "--seed", str(seed), "--oracle", str(TASK_DIR / "oracle.py")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        env = {**os.environ, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "OPENAI_API_KEY": "sk-calibrate"}
        start = time.monotonic()
        subprocess.run([sys.executable, "run.py"], cwd=ws, env=env, check=True, capture_output=True, timeout=300)
        (ws / "seconds").write_text(f"{time.monotonic() - start:.1f}")
    finally:
        mock.terminate()
        mock.wait(10)
    return ws


def measure(ws: Path) -> dict[str, float]:
    """The suite's measures of one run folder."""
    keys, facts = _jsonl(HIDDEN / "holdout_key.jsonl"), _jsonl(HIDDEN / "holdout_facts.jsonl")
    answers = {r["question_id"]: r for r in _jsonl(ws / "outputs" / "answers.jsonl")}
    pages = [p.read_text(encoding="utf-8") for p in sorted((HIDDEN / "holdout" / "handbook").glob("*.md"))]
    bodies = [r.get("body") for r in _jsonl(ws / "mock" / "bodies.jsonl")]
    chats = [metrics.normal(json.dumps([m.get("content") for m in b["messages"]], ensure_ascii=False))
             for b in bodies if isinstance(b, dict) and b.get("messages")]
    calls = _jsonl(ws / "mock" / "calls.jsonl")
    out = {**metrics.answer_scores(keys, facts, answers),
           **metrics.prompt_scores(keys, metrics.handbook_sentences(pages), chats)}
    out["cost_per_question_usd"] = sum(c.get("cost_usd") or 0 for c in calls) / len(keys)
    out["seconds"] = float((ws / "seconds").read_text()) if (ws / "seconds").exists() else None
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in out.items()}


def main() -> None:
    """Run both candidates under every seed and write calibration.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"unfixed": [], "solution": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for name in runs:
                runs[name].append(measure(run_candidate(name, seed, Path(tmp))))
                print(name, seed, json.dumps(runs[name][-1]), flush=True)
    floor = {m: round(max(r[m] for r in runs["unfixed"]) + FLOOR_MARGIN, 4) for m in MEASURES}
    full = {m: round(min(r[m] for r in runs["solution"]) - REFERENCE_TOLERANCE, 4) for m in MEASURES}
    cost = sum(r["cost_per_question_usd"] for r in runs["solution"]) / len(runs["solution"])
    body = {"floor": floor, "full": full, "reference_cost_per_question_usd": round(cost, 8),
            "runs": runs, "margin": FLOOR_MARGIN, "tolerance": REFERENCE_TOLERANCE,
            "note": "written by tools/calibrate.py; regenerate after changing the data, oracle, profile or notebooks"}
    OUT.write_text(json.dumps(body, indent=1) + "\n")
    print(json.dumps({"floor": floor, "full": full, "cost": cost}, indent=1))


if __name__ == "__main__":
    main()
