"""The rag-repair oracle and the suite's measures: right only with the gold passage, wrong but plausible
without it, "I don't know" only when the instructions allow it; answers judged by value, not by wording."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

from worksample.mockllm.oracle import OracleContext, OracleRequest, load_oracle

REPO = Path(__file__).resolve().parents[3]
TASK = REPO / "tasks" / "rag-repair"
HIDDEN = TASK / "grader" / "data"
ALLOW = "Answer from the excerpts. If the excerpts do not contain the answer, reply \"I don't know\"."
PLAIN = "Answer the question from the excerpts."

pytestmark = pytest.mark.timeout(30)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _metrics():
    spec = importlib.util.spec_from_file_location("rag_repair_metrics_unit", TASK / "grader" / "metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


metrics = _metrics()
KEYS = _jsonl(HIDDEN / "public_key.jsonl")
FACTS = _jsonl(HIDDEN / "public_facts.jsonl")
VALUES: dict[str, list[str]] = {}
for _f in FACTS:
    VALUES.setdefault(_f["attribute"], []).append(_f["value"])
PAGES = {p.stem: p.read_text(encoding="utf-8") for p in (TASK / "data" / "handbook").glob("*.md")}
ANSWERABLE = next(k for k in KEYS if k["answerable"])
UNANSWERABLE = next(k for k in KEYS if not k["answerable"] and k["why"] == "no such subject")
# A page stating the same fact about another subject: what retrieval gone wrong puts in the prompt.
DISTRACTOR = next(f for f in FACTS if f["attribute"] == ANSWERABLE["attribute"] and f["page"] != ANSWERABLE["gold_page"])


@pytest.fixture(scope="module")
def oracle():
    return load_oracle(TASK / "oracle.py", OracleContext(task_dir=TASK, seed=4242, models=("atlas-mini", "atlas-pro")))


def ask(oracle, question: str, pages: list[str], system: str = ALLOW, json_mode: bool = True) -> tuple[str, list[str]]:
    context = "\n\n".join(f"[{p}] {PAGES[p]}" for p in pages)
    user = f"Handbook excerpts:\n{context}\n\nQuestion: {question}"
    request = OracleRequest(model="atlas-mini", messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                            response_format={"type": "json_object"} if json_mode else None, tools=None, tool_choice=None,
                            max_tokens=200, index=0, request_hash="h", rng=random.Random(0))
    content = oracle(request).content
    if not json_mode:
        return content, []
    reply = json.loads(content)
    return reply["answer"], reply["citations"]


def test_right_and_cited_only_when_the_gold_passage_is_in_the_prompt(oracle):
    gold = ANSWERABLE["gold_page"]
    answer, cited = ask(oracle, ANSWERABLE["question"], [DISTRACTOR["page"], gold])
    assert metrics.is_correct(answer, ANSWERABLE, VALUES) and cited == [gold]
    # Same question in other casing and spacing: found by its text.
    answer2, _ = ask(oracle, "  " + ANSWERABLE["question"].upper().replace(" ", "   "), [gold])
    assert answer2 == answer


def test_without_the_gold_passage_it_is_plausibly_wrong(oracle):
    answer, cited = ask(oracle, ANSWERABLE["question"], [DISTRACTOR["page"]])
    assert DISTRACTOR["value"] in answer and ANSWERABLE["subject"] in answer  # the neighbour's value, restated
    assert cited == [DISTRACTOR["page"]]
    assert not metrics.is_correct(answer, ANSWERABLE, VALUES) and not metrics.is_abstention(answer)
    # The gold sentence cut in half (a chunk boundary) is not the gold passage.
    half = ANSWERABLE["gold_sentence"][: len(ANSWERABLE["gold_sentence"]) // 2]
    request_text = f"{half}\n\nQuestion: {ANSWERABLE['question']}"
    answer, _ = ask(oracle, request_text, [], system=PLAIN)
    assert not metrics.is_correct(answer, ANSWERABLE, VALUES)


def test_it_abstains_only_when_the_instructions_allow_it(oracle):
    answer, cited = ask(oracle, UNANSWERABLE["question"], [DISTRACTOR["page"]])
    assert metrics.is_abstention(answer) and cited == []
    invented, cited = ask(oracle, UNANSWERABLE["question"], [DISTRACTOR["page"]], system=PLAIN)
    assert not metrics.is_abstention(invented) and UNANSWERABLE["subject"] in invented
    # An answerable question with nothing about its fact in the prompt: allowed to abstain, it does.
    answer, _ = ask(oracle, ANSWERABLE["question"], [])
    assert metrics.is_abstention(answer)
    # "I don't know" inside a handbook page is not permission (only instructions are).
    assert "don't know" not in " ".join(PAGES.values())


def test_plain_prompts_get_text_with_sources_and_other_prompts_the_generic_answer(oracle):
    text, _ = ask(oracle, ANSWERABLE["question"], [ANSWERABLE["gold_page"]], json_mode=False)
    assert text.startswith(ANSWERABLE["gold_sentence"]) and text.endswith(f"Sources: {ANSWERABLE['gold_page']}")
    other, _ = ask(oracle, "How do I reset my password?", [], json_mode=False)
    assert ANSWERABLE["answer"] not in other


def test_answers_are_judged_by_the_value_and_nothing_else():
    key = {"attribute": "retention", "answer": "5", "question_id": "x"}
    values = {"retention": ["5", "45", "120"]}
    assert metrics.is_correct("Logs are deleted after 5 days.", key, values)
    assert not metrics.is_correct("Logs are deleted after 45 days.", key, values)  # "5" is not a word of "45"
    assert not metrics.is_correct("5, 45 or 120 days.", key, values)  # listing every value is no answer
    assert not metrics.is_correct("I don't know; maybe 5.", key, values)
    assert metrics.is_abstention("The handbook does not say.") and not metrics.is_abstention("")


def test_scores_of_a_run(oracle):
    keys = [k for k in KEYS if k["answerable"]][:4] + [UNANSWERABLE]
    answers = {k["question_id"]: {"answer": k["gold_sentence"], "citations": [k["gold_page"], "HB-9999"]}
               for k in keys[:4]}
    answers[UNANSWERABLE["question_id"]] = {"answer": "I don't know", "citations": []}
    scores = metrics.answer_scores(keys, FACTS, answers)
    assert scores["accuracy"] == 1.0 and scores["citation_precision"] == 0.5
    assert scores["abstained_unanswerable"] == 1.0 and scores["abstained_answerable"] == 0.0
    sentences = metrics.handbook_sentences(list(PAGES.values()))
    prompt = metrics.normal(f"{PAGES[keys[0]['gold_page']]}\nQuestion: {keys[0]['question']}")
    bare = metrics.normal(f"Question: {keys[1]['question']}")
    seen = metrics.prompt_scores(keys, sentences, [prompt, bare])
    assert seen["sent"] == 2 / 5 and seen["with_context"] == 0.5 and seen["recall"] == 1 / 4
