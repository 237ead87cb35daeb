"""What the rag-repair checks measure, in one place (the suite and tools/calibrate.py both use it).

Answers are candidate text: compared as lower-case word tokens (`words`), so
case, punctuation and spacing do not matter, and "45 days" never matches "5 days".
"""

from __future__ import annotations

import re
from itertools import combinations

from worksample_grader.prompts import words

ABSTAIN = re.compile(
    r"\b(i )?(don'?t|do not|cannot|can'?t) (know|tell|say|find|answer)\b|\bnot (stated|mentioned|covered|specified|"
    r"documented|say|in the (handbook|excerpts?|context|sources?|pages?))\b|\bdoes(n'?t| not) (say|mention|state|cover)\b"
    r"|\bno (information|answer|mention)\b|\bunable to (find|answer)\b|\bunknown\b|\bnot sure\b",
    re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normal(text: str) -> str:
    """Lower case, runs of whitespace as one space (how passages are found in prompts)."""
    return _SPACE.sub(" ", text.lower()).strip()


def is_abstention(answer: str) -> bool:
    """True for an answer that says the handbook does not answer (an empty one is no answer, not an abstention)."""
    return bool(ABSTAIN.search(answer))


def _has(tokens: list[str], value: list[str]) -> bool:
    n = len(value)
    return n > 0 and any(tokens[i:i + n] == value for i in range(len(tokens) - n + 1))


def is_correct(answer: str, key: dict, values_by_attribute: dict[str, list[str]]) -> bool:
    """The gold value is in the answer, no other page's value of that fact is, and it does not abstain."""
    if is_abstention(answer):
        return False
    tokens = words(answer)
    if not _has(tokens, words(key["answer"])):
        return False
    others = [v for v in values_by_attribute.get(key["attribute"], []) if v != key["answer"]]
    return not any(_has(tokens, words(v)) for v in others)


def answer_scores(keys: list[dict], facts: list[dict], answers: dict[str, dict]) -> dict[str, float]:
    """Accuracy, citation precision, abstention and alike-answered pairs of `answers` (by question id)."""
    values: dict[str, list[str]] = {}
    for fact in facts:
        values.setdefault(fact["attribute"], []).append(fact["value"])
    answerable = [k for k in keys if k["answerable"]]
    unanswerable = [k for k in keys if not k["answerable"]]
    text = {k["question_id"]: str(answers.get(k["question_id"], {}).get("answer", "")) for k in keys}
    correct = [k for k in answerable if is_correct(text[k["question_id"]], k, values)]
    precisions = []
    for k in answerable:
        if is_abstention(text[k["question_id"]]):
            continue
        cited = set(answers.get(k["question_id"], {}).get("citations") or [])
        precisions.append(len(cited & {k["gold_page"]}) / len(cited) if cited else 0.0)
    pairs = [(a, b) for a, b in combinations([k for k in answerable if not k.get("repeat")], 2)
             if a["attribute"] == b["attribute"] and a["subject"] != b["subject"]
             and words(a["question"])[:6] == words(b["question"])[:6]]
    alike = [(a, b) for a, b in pairs if normal(text[a["question_id"]]) == normal(text[b["question_id"]])
             and text[a["question_id"]].strip() and not is_abstention(text[a["question_id"]])]
    return {
        "accuracy": len(correct) / len(answerable) if answerable else 0.0,
        "citation_precision": sum(precisions) / len(answerable) if answerable else 0.0,
        "abstained_unanswerable": (sum(is_abstention(text[k["question_id"]]) for k in unanswerable) / len(unanswerable)
                                   if unanswerable else 0.0),
        "abstained_answerable": (sum(is_abstention(text[k["question_id"]]) for k in answerable) / len(answerable)
                                 if answerable else 0.0),
        "pairs": len(pairs), "pairs_alike": len(alike),
    }


def handbook_sentences(page_texts: list[str]) -> set[str]:
    """Every sentence of the handbook pages (normalised, at least five words): a prompt holding one
    carries handbook text."""
    found = set()
    for text in page_texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if len(sentence.split()) >= 5:
                found.add(normal(sentence))
    return found


def prompt_scores(keys: list[dict], sentences: set[str], chat_texts: list[str]) -> dict[str, float]:
    """From the chat prompts the API received (normalised text): which questions reached the model,
    with any handbook sentence beside them, and with their gold passage (retrieval recall)."""
    sent, with_context, recalled = 0, 0, 0
    answerable = [k for k in keys if k["answerable"]]
    for k in keys:
        q = normal(k["question"])
        prompts = [t for t in chat_texts if q in t]
        if not prompts:
            continue
        sent += 1
        with_context += any(any(s in t for s in sentences) for t in prompts)
        if k["answerable"]:
            recalled += any(normal(k["gold_sentence"]) in t for t in prompts)
    return {"sent": sent / len(keys) if keys else 0.0, "with_context": with_context / sent if sent else 0.0,
            "recall": recalled / len(answerable) if answerable else 0.0}
