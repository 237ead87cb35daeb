"""Fixtures of the rag-repair suite: the hidden edition's keys, the candidate's answers, the prompts sent.

Everything is read as data with size caps (worksample_grader.runfolder); the
candidate's answers file is parsed line by line, each field bounded, never executed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worksample_grader import runfolder as rf
from worksample_grader.calibration import read_calibration
from worksample_grader.deliverables import read_deliverable
from worksample_grader.prompts import message_text
from worksample_grader.tasktools import load_module

MAX_ANSWER_CHARS = 2000  # a longer "answer" is a dump, not an answer; it is cut before matching
MAX_CITATIONS = 20


@pytest.fixture(scope="session")
def metrics():
    """The measures the checks and tools/calibrate.py share: grader/metrics.py, loaded by path (the suite
    runs with --import-mode=importlib: no sys.path entry)."""
    return load_module("rag_repair_metrics", Path(__file__).with_name("metrics.py"))


@pytest.fixture(scope="session")
def keys(hidden_data: Path) -> list[dict]:
    """The hidden questions' keys: answerable, answer, gold page and sentence, attribute, subject."""
    return rf.read_jsonl(hidden_data / "holdout_key.jsonl")


@pytest.fixture(scope="session")
def facts(hidden_data: Path) -> list[dict]:
    """Every fact the hidden edition states (page, attribute, value, sentence)."""
    return rf.read_jsonl(hidden_data / "holdout_facts.jsonl")


@pytest.fixture(scope="session")
def handbook_sentences(hidden_data: Path, metrics) -> set[str]:
    """The hidden edition's sentences, normalised: a prompt holding one carries handbook text."""
    pages = sorted((hidden_data / "holdout" / "handbook").glob("*.md"))
    return metrics.handbook_sentences([rf.read_capped(p).decode("utf-8") for p in pages])


@pytest.fixture(scope="session")
def calibration(hidden_data: Path) -> dict:
    """grader/data/calibration.json: the unfixed starter's level (0 points) and the reference's (full)."""
    return read_calibration(hidden_data)


@pytest.fixture(scope="session")
def answer_file(outputs: Path) -> tuple[list[dict], list[str]]:
    """(records, problems) of outputs/answers.jsonl; fails the check if the file is missing or unreadable."""
    text = read_deliverable(outputs, "answers.jsonl").decode("utf-8", "replace")
    records, problems = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {n}: not JSON")
            continue
        if not isinstance(record, dict):
            problems.append(f"line {n}: not an object")
            continue
        records.append(record)
    return records, problems


@pytest.fixture(scope="session")
def answers(answer_file) -> dict[str, dict]:
    """{question_id: {"answer": str, "citations": [str]}}, bounded; the last line of an id wins."""
    records, _ = answer_file
    out = {}
    for r in records:
        cited = r.get("citations")
        cited = [str(c)[:50] for c in cited[:MAX_CITATIONS]] if isinstance(cited, list) else []
        out[str(r.get("question_id", ""))[:50]] = {"answer": str(r.get("answer") or "")[:MAX_ANSWER_CHARS],
                                                  "citations": cited}
    return out


@pytest.fixture(scope="session")
def chat_texts(llm_bodies: dict[str, object], metrics) -> list[str]:
    """What each chat request showed the model (normalised); a body the mock cut is its raw text."""
    return [metrics.normal(message_text(b)) for b in llm_bodies.values()
            if isinstance(b, str) or (isinstance(b, dict) and b.get("messages"))]


@pytest.fixture(scope="session")
def handbook_model(hidden_data: Path):
    """What the mock's models answer (grader/handbook_model.py, as the oracle uses it; both editions, as it
    knows them). The seed is not needed: where the model makes a value up, any wrong pick is allowed."""
    module = load_module("rag_repair_handbook_model", Path(__file__).with_name("handbook_model.py"))
    keys, facts = [], []
    for edition in ("public", "holdout"):
        keys += rf.read_jsonl(hidden_data / f"{edition}_key.jsonl")
        facts += rf.read_jsonl(hidden_data / f"{edition}_facts.jsonl")
    return module.HandbookModel(keys, facts)


@pytest.fixture(scope="session")
def model_scores(keys, answers, llm_bodies, handbook_model, metrics) -> dict:
    """Answered questions whose answer states what the model replied (metrics.answers_from_model)."""
    return metrics.answers_from_model(keys, answers, list(llm_bodies.values()), handbook_model)


@pytest.fixture(scope="session")
def answer_scores(keys, facts, answers, metrics) -> dict:
    """Accuracy, citation precision, abstention, alike-answered pairs (metrics.answer_scores)."""
    return metrics.answer_scores(keys, facts, answers)


@pytest.fixture(scope="session")
def prompt_scores(keys, handbook_sentences, chat_texts, metrics) -> dict:
    """Questions sent, with handbook text beside them, with their gold passage (metrics.prompt_scores)."""
    return metrics.prompt_scores(keys, handbook_sentences, chat_texts)
