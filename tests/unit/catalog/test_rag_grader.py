"""rag-repair's hidden suite on crafted run folders: the cheapest fakes fail, hostile answer files are the
candidate's outcome, and prompts are the evidence for retrieval.

Each test writes a run folder as the runner leaves it and runs the task's real
suite (with llm_resilience where it matters) over it, host-side, exactly as the
grader container does.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest
from hidden_suite import run_hidden_suite

TASK = Path(__file__).resolve().parents[3] / "tasks" / "rag-repair"
HIDDEN = TASK / "grader" / "data"
KEYS = [json.loads(x) for x in (HIDDEN / "holdout_key.jsonl").read_text().splitlines() if x.strip()]
FACTS = [json.loads(x) for x in (HIDDEN / "holdout_facts.jsonl").read_text().splitlines() if x.strip()]
WRITEUP = nbformat.read(TASK / "solution" / "assistant.ipynb", as_version=4).cells

pytestmark = pytest.mark.timeout(120)


def perfect_answers() -> list[dict]:
    """What the key says: the gold sentence and page, or "I don't know"."""
    return [{"question_id": k["question_id"], "answer": k["gold_sentence"] if k["answerable"] else "I don't know",
             "citations": [k["gold_page"]] if k["answerable"] else []} for k in KEYS]


def make_run(root: Path, answer_lines: list[str], bodies: list[dict] | None = None) -> Path:
    """A run folder: outputs/answers.jsonl, the reference's notebook cells, run.json, optional request bodies."""
    run = root / "run"
    (run / "mock").mkdir(parents=True)
    (run / "outputs").mkdir()
    (run / "outputs" / "answers.jsonl").write_text("\n".join(answer_lines) + "\n")
    nbformat.write(nbformat.v4.new_notebook(cells=WRITEUP), run / "notebook.ipynb")
    (run / "run.json").write_text(json.dumps({"status": "completed", "duration_s": 30, "cells": 7, "errors": []}))
    (run / "task.json").write_text(json.dumps({"slug": "rag-repair"}))
    (run / "profile.json").write_text("{}")
    if bodies is not None:
        (run / "mock" / "bodies.jsonl").write_text(
            "".join(json.dumps({"request_id": f"req-{i}", "body": b}) + "\n" for i, b in enumerate(bodies)))
    return run


def checks(result: dict) -> dict[str, dict]:
    return {c["id"]: c for c in result["checks"]}


def test_perfect_answers_from_a_lookup_without_the_llm_are_not_passed(tmp_path: Path):
    make_run(tmp_path, [json.dumps(a) for a in perfect_answers()])
    result = run_hidden_suite(tmp_path, TASK, include=("llm_resilience",))
    got = checks(result)
    assert got["answer_accuracy"]["status"] == "pass" and got["citation_precision"]["status"] == "pass"
    assert got["questions_sent_to_model"]["status"] == "fail" and "questions_sent_to_model" in result["gates_failed"]
    assert got["answers_from_model"]["status"] == "fail" and "0 of 36 answers" in got["answers_from_model"]["message"]
    for name in ("gold_passage_in_prompt", "cost_per_question", "retry_after_honoured", "within_budget"):
        assert got[name]["status"] == "fail" and got[name]["message"].startswith("no evidence"), got[name]
    assert result["score"] < 0.7 * result["max_score"]


def test_prompts_are_the_evidence_of_retrieval_and_context(tmp_path: Path):
    def chat(text: str) -> dict:
        return {"model": "atlas-mini", "messages": [{"role": "user", "content": text}]}

    answerable = [k for k in KEYS if k["answerable"]]
    half = len(answerable) // 2
    # Half the questions with their gold passage, the other half with none: recall 50 %, context 50 %.
    bodies = [chat(f"[{k['gold_page']}] {k['gold_sentence']}\n\nQuestion: {k['question']}") for k in answerable[:half]]
    bodies += [chat(f"Question: {k['question']}") for k in answerable[half:] + [k for k in KEYS if not k["answerable"]]]
    make_run(tmp_path, [json.dumps(a) for a in perfect_answers()], bodies)
    got = checks(run_hidden_suite(tmp_path, TASK))
    assert got["questions_sent_to_model"]["status"] == "pass"
    assert got["context_reaches_model"]["status"] == "fail" and "handbook text" in got["context_reaches_model"]["message"]
    recall = got["gold_passage_in_prompt"]
    assert recall["status"] == "pass" and 0 < recall["points"] < recall["max_points"], recall


def test_a_hostile_answers_file_is_the_candidates_outcome(tmp_path: Path):
    every_value = " ".join(f["value"] for f in FACTS)  # one answer naming every value of every fact
    lines = ["not json", "[1, 2]", json.dumps({"question_id": 7, "answer": None, "citations": "HB-0001"})]
    lines += [json.dumps({"question_id": k["question_id"], "answer": every_value, "citations": ["HB-0001"] * 50})
              for k in KEYS]
    lines.append(json.dumps({"question_id": KEYS[0]["question_id"], "answer": "again", "citations": []}))
    make_run(tmp_path, lines)
    result = run_hidden_suite(tmp_path, TASK)
    got = checks(result)
    assert not [c for c in result["checks"] if c["status"] == "error"], result["checks"]
    assert got["answers_schema"]["status"] == "fail"
    assert got["answer_accuracy"]["status"] == "fail"  # naming every value is no answer
    assert got["abstains_when_unanswerable"]["status"] == "fail"


def _handbook_model():
    spec = importlib.util.spec_from_file_location("rag_repair_handbook_model_unit", TASK / "grader" / "handbook_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    jsonl = [json.loads(x) for e in ("public", "holdout") for x in (HIDDEN / f"{e}_key.jsonl").read_text().splitlines()]
    facts = [json.loads(x) for e in ("public", "holdout") for x in (HIDDEN / f"{e}_facts.jsonl").read_text().splitlines()]
    return module.HandbookModel(jsonl, facts)


def _metrics():
    spec = importlib.util.spec_from_file_location("rag_repair_metrics_grader_unit", TASK / "grader" / "metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_answers_made_beside_a_call_for_show_are_not_the_models(tmp_path: Path):
    # The local_extractor fake: every question goes to the model with one handbook sentence and leave to
    # say "I don't know", but the answer is cut out of a sentence found locally. A third of the answerable
    # questions were sent with a sentence that does not answer them (the model said "I don't know"), yet
    # carry the right value; the rest with their gold passage (the model said it too).
    allow = "Answer from the excerpt. If it does not say, reply I don't know."
    answerable = [k for k in KEYS if k["answerable"]]
    shown_wrong = {k["question_id"] for k in answerable[::3]}
    other = next(f for f in FACTS if f["attribute"] == "bikes")
    bodies = []
    for k in KEYS:
        sentence = k["gold_sentence"] if k["question_id"] not in shown_wrong and k["answerable"] else other["sentence"]
        bodies.append({"model": "atlas-mini", "messages": [{"role": "system", "content": allow}, {
            "role": "user", "content": f"Excerpt [{other['page']}]: {sentence}\n\nQuestion: {k['question']}"}]})
    # Hostile bodies are skipped, never an error: no messages list, odd messages, odd content.
    bodies += [{"messages": "Question?"}, {"messages": [1, None, {"role": "user", "content": {"x": [1]}}]}, "cut {"]
    model, metrics = _handbook_model(), _metrics()
    # What the model replied to these prompts, handed in as is: every answer is the model's.
    replies = {k["question_id"]: {"answer": model.answer(k, model.prompt_of(b["messages"]))[0]}
               for k, b in zip(KEYS, bodies)}
    honest = metrics.answers_from_model(KEYS, replies, bodies, model)
    assert honest["share"] == 1.0 and honest["answered"] >= len(answerable) - len(shown_wrong), honest

    fake = perfect_answers()
    make_run(tmp_path, [json.dumps(a) for a in fake], bodies)
    result = run_hidden_suite(tmp_path, TASK)
    got = checks(result)
    assert not [c for c in result["checks"] if c["status"] == "error"], result["checks"]
    gate = got["answers_from_model"]
    assert gate["status"] == "fail" and result["gates_failed"] == ["answers_from_model"], (gate, result["gates_failed"])
    assert f"{len(answerable) - len(shown_wrong)} of {len(answerable)} answers" in gate["message"], gate["message"]
    for name in ("answers_present", "questions_sent_to_model", "abstains_when_unanswerable", "answer_accuracy",
                 "context_reaches_model"):
        assert got[name]["status"] == "pass", got[name]
