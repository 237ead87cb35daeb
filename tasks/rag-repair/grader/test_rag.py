"""Hidden checks of rag-repair: the deliverable, answer quality, retrieval, abstention, cost, the write-up.

The resilience checks (retries, backoff, concurrency, budget) come from the
included suite `llm_resilience`.

Scoring (DESIGN §13):
- gates: an answer for every hidden question; most questions reached the
  model (answers not produced by the LLM pipeline are not what was asked);
  the answers state what the model replied (its replies are recomputed from the
  logged prompts with grader/handbook_model.py, the oracle's own logic): a
  pipeline that calls the model for show and answers by itself fails;
  unanswerable questions mostly get "I don't know" (a support assistant that
  invents policy is worse than none);
- accuracy, citation precision and retrieval recall are scored on curves from
  the unfixed starter's measured level (no points) to the reference's (full),
  both in calibration.json (tools/calibrate.py);
- the prompts themselves are evidence: the gold passage in the prompt
  (recall), handbook text beside every question (context kept), questions
  that share a long prefix answered apart (no prefix cache);
- cost per question is compared with the reference's on the same profile;
- checks with nothing to judge fail with "no evidence"; the defects named in
  the write-up are worth little (reviewers judge the account with the rubric).
"""

from __future__ import annotations

import re

import pytest

from worksample_grader.calibration import score_cost
from worksample_grader.evidence import require
from worksample_grader.prompts import words
from worksample_grader.scoring import curve

SENT_GATE = 0.5  # share of hidden questions that must reach a chat prompt
FROM_MODEL_GATE = 0.9  # share of answered questions whose answer states what the model replied
COVERAGE = 0.9  # share that must reach it before cost per question means anything
CONTEXT_MIN = 0.9  # share of sent questions whose prompt carries handbook text
ABSTAIN_GATE, ABSTAIN_FULL = 0.5, 0.9  # share of unanswerable questions answered "I don't know"
OVER_ABSTAIN = 0.5  # abstaining on more answerable questions than this is not abstention but refusal
MAX_ALIKE_PAIRS = 1
COST_FULL_AT, COST_ZERO_AT = 1.5, 4.0  # cost per question as a multiple of the reference's
DEFECTS = {
    "chunking": r"chunk|boundar|window",
    "normalisation": r"normali[sz]|cosine|unit.(length|vector|norm)|\bnorms?\b",
    "top-k": r"top.?k|off.by.one|\[1:|skip(s|ped)? the (best|first|top)",
    "dropped context": r"(drop|lost|lose|empty|silent|discard)\w*.{0,80}(context|excerpt|passage)"
                       r"|(context|excerpt|passage)s?.{0,80}(drop|lost|empty|silent|discard)",
    "prefix cache": r"cache",
    "rate limits": r"rate.?limit|\b429\b|retr(y|ies)|back.?off|retry-after",
}
DEFECTS_MIN = 4


def _scale_on_curve(check, calibration: dict, what: str, value: float, measured: str) -> None:
    """Scale `check` on the curve of `what` from the unfixed starter's level (no points) to the reference's
    (full); `measured` says what `value` is. The check fails at or below the starter's level."""
    floor, full = float(calibration["floor"][what]), float(calibration["full"][what])
    fraction = curve(value, floor, full)
    message = f"{measured} (unfixed starter {floor:.3f} → 0 points, reference {full:.3f} → full)"
    assert fraction > 0, f"{message}: no better than the unfixed starter"
    check.scale(fraction, message)


@pytest.mark.gate
@pytest.mark.points(10)
def test_answers_present(keys, answers):
    """outputs/answers.jsonl has an answer for every hidden question (a gate)"""
    assert keys, "the hidden question set is empty (task authoring error)"
    missing = [k["question_id"] for k in keys if k["question_id"] not in answers]
    assert not missing, f"{len(missing)} of {len(keys)} questions have no answer line (e.g. {', '.join(missing[:3])})"


@pytest.mark.points(5)
def test_answers_schema(answer_file, keys):
    """Each line is {question_id, answer: str, citations: [str]}, one per question, no unknown ids"""
    records, problems = answer_file
    assert records, "answers.jsonl has no records"
    assert not problems, f"{len(problems)} unreadable lines (e.g. {problems[0]})"
    bad = [i for i, r in enumerate(records, 1) if not isinstance(r.get("question_id"), str)
           or not isinstance(r.get("answer"), str) or not isinstance(r.get("citations"), list)
           or not all(isinstance(c, str) for c in r.get("citations") or [])]
    assert not bad, f"{len(bad)} records lack question_id/answer (strings) or citations (a list of strings), e.g. record {bad[0]}"
    ids = [r["question_id"] for r in records]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    unknown = sorted(set(ids) - {k["question_id"] for k in keys})
    assert not dupes, f"{len(dupes)} question ids answered more than once (e.g. {dupes[0]})"
    assert not unknown, f"{len(unknown)} unknown question ids (e.g. {unknown[0][:40]})"


@pytest.mark.gate
@pytest.mark.points(5)
def test_questions_sent_to_model(prompt_scores, keys, llm_truncated_bodies, check):
    """Most hidden questions reached the chat model: the answers come from the pipeline (a gate)"""
    sent = round(prompt_scores["sent"] * len(keys))
    maybe = min(len(llm_truncated_bodies), len(keys) - sent)  # a body the mock cut may have held a question
    share = (sent + maybe) / len(keys)
    assert share >= SENT_GATE, (f"{sent} of {len(keys)} questions reached the chat model "
                                f"(need {SENT_GATE:.0%}): the answers were not produced by asking it")
    check.note(f"{sent} of {len(keys)} questions seen in chat prompts" + (f" (+{maybe} in cut bodies)" if maybe else ""))


@pytest.mark.gate
@pytest.mark.points(0)
def test_answers_from_model(model_scores, check):
    """The answers are the model's: what an answer states is what the model replied to that question (a gate)"""
    answered, share = model_scores["answered"], model_scores["share"]
    require(answered, "no question was answered (every answer is empty or \"I don't know\")")
    unknown = f" (+{model_scores['unknown']} whose request the mock cut)" if model_scores["unknown"] else ""
    message = (f"{model_scores['from_model']} of {answered} answers state what the model replied{unknown} "
               f"({share:.0%}, need {FROM_MODEL_GATE:.0%})")
    assert share >= FROM_MODEL_GATE, (f"{message}: the rest were not in any reply (e.g. "
                                      f"{', '.join(model_scores['not_from_model'][:3])}): answers made without the model")
    check.note(message)


@pytest.mark.points(40)
def test_answer_accuracy(answer_scores, calibration, check):
    """Answers state the handbook's value, on a curve from the unfixed starter to the reference"""
    accuracy = answer_scores["accuracy"]
    _scale_on_curve(check, calibration, "accuracy", accuracy, f"{accuracy:.1%} of answerable questions answered right")


@pytest.mark.points(15)
def test_citation_precision(answer_scores, calibration, check):
    """Citations name the page that states the answer, on a curve from the unfixed starter to the reference"""
    precision = answer_scores["citation_precision"]
    _scale_on_curve(check, calibration, "citation_precision", precision,
                    f"citation precision {precision:.3f} over answerable questions")


@pytest.mark.points(15)
def test_gold_passage_in_prompt(prompt_scores, calibration, check):
    """Retrieval puts the passage that answers the question in the prompt (recall, on a curve)"""
    require(prompt_scores["sent"] > 0, "no hidden question reached the chat model")
    recall = prompt_scores["recall"]
    _scale_on_curve(check, calibration, "recall", recall,
                    f"the gold passage was in the prompt for {recall:.1%} of answerable questions")


@pytest.mark.points(10)
def test_context_reaches_model(prompt_scores, check):
    """Every question's prompt carries handbook text: the context is never silently dropped"""
    require(prompt_scores["sent"] > 0, "no hidden question reached the chat model")
    share = prompt_scores["with_context"]
    assert share >= CONTEXT_MIN, (f"only {share:.0%} of the questions sent had any handbook text in their prompt "
                                  f"(need {CONTEXT_MIN:.0%}): the model answered the rest from nothing")
    check.note(f"{share:.0%} of prompts carried handbook text")


@pytest.mark.points(10)
def test_similar_questions_answered_apart(answer_scores, check):
    """Questions that start alike but ask about different subjects get different answers"""
    pairs, alike = answer_scores["pairs"], answer_scores["pairs_alike"]
    require(pairs, "the hidden set has no questions sharing a phrasing (task authoring error)")
    assert alike <= MAX_ALIKE_PAIRS, (f"{alike} of {pairs} pairs of questions about different subjects got the "
                                      "very same answer: answers leak between questions")
    check.scale(1 - alike / pairs, f"{pairs - alike} of {pairs} pairs answered apart")


@pytest.mark.gate
@pytest.mark.points(15)
def test_abstains_when_unanswerable(answer_scores, check):
    """Questions the handbook does not answer get "I don't know", answerable ones do not (a gate)"""
    rate, over = answer_scores["abstained_unanswerable"], answer_scores["abstained_answerable"]
    message = f"abstained on {rate:.0%} of unanswerable and {over:.0%} of answerable questions"
    assert over <= OVER_ABSTAIN, f"{message}: refusing most questions is not abstaining"
    assert rate >= ABSTAIN_GATE, f"{message}: it invents answers the handbook does not give"
    check.scale(curve(rate, 0.0, ABSTAIN_FULL), message)


@pytest.mark.points(10)
def test_cost_per_question(llm_log, keys, prompt_scores, calibration, check):
    """Cost per question against the reference's: full at ≤1.5×, none at ≥4×"""
    require(prompt_scores["sent"] >= COVERAGE, f"{prompt_scores['sent']:.0%} of questions reached the chat model "
                                                f"(need {COVERAGE:.0%}), so cost per question means nothing")
    score_cost(check, llm_log, len(keys), "question", float(calibration["reference_cost_per_question_usd"]),
               COST_FULL_AT, COST_ZERO_AT)


@pytest.mark.points(5)
def test_defects_named(notebook, check):
    """The write-up names the defects found (a light check: reviewers judge the account)"""
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown" and "TODO" not in c.source)
    require(len(words(text)) >= 30, "the notebook has no write-up (markdown without TODO)")
    named = [name for name, pattern in DEFECTS.items() if re.search(pattern, text, re.IGNORECASE | re.DOTALL)]
    assert len(named) >= DEFECTS_MIN, f"the write-up names {len(named)} kinds of defect ({', '.join(named) or 'none'})"
    check.scale(len(named) / len(DEFECTS), f"names: {', '.join(named)}")
