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
MAX_PROMPTS_PER_QUESTION = 4  # distinct prompts of one question whose reply is recomputed
MIN_WORDED = 4  # an answer of this many words without a value is matched against every reply (a cached one)


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


def _values_in(answer: str, values: list[str]) -> list[list[str]]:
    tokens = words(answer)
    return [v for v in (words(value) for value in values) if _has(tokens, v)]


# Words a reply may carry besides its answer: the JSON it was asked for, the page labels it cites
# (HB-0042), and what the mock's malformed_json fault wraps around it ("Sure! Here is the JSON ...").
REPLY_FRAME = frozenset(words('{"answer": "", "citations": ["HB"]} Sources: Sure! Here is the JSON you asked for: '
                              '```json ``` "note": "end of answer"'))
_LABEL_NUMBER = re.compile(r"\d{4}")


def _said(answer: list[str], reply: list[str]) -> bool:
    """Every word of `answer` is in `reply` (or its frame); the last may be cut short (a truncated reply)."""
    allowed = set(reply) | REPLY_FRAME
    return bool(answer) and all(
        t in allowed or _LABEL_NUMBER.fullmatch(t) or (i == len(answer) - 1 and any(a.startswith(t) for a in allowed))
        for i, t in enumerate(answer))


def answers_from_model(keys: list[dict], answers: dict[str, dict], bodies: list[object], model) -> dict:
    """How many answered (not abstained, not empty) questions state what the model replied.

    The mock logs requests, not replies; `model` (grader/handbook_model.HandbookModel) recomputes
    the reply to each logged chat request. An answer is the model's when the values of its fact
    it states (every value of that attribute, in any edition the model knows, found in it) all
    appear in the reply to a request asking that question; or, for an answer kept from another
    question (a cache), in any reply of the run. Where the model makes a value up (the seed is
    not known) every wrong value it may pick is allowed, the right one never: the model is right
    only with the gold passage in the prompt. An answer stating no value of its fact (the
    model always states one, or says it does not know) must be worded from a reply to its
    question (a reply the mock broke, malformed JSON, is still the model's), or, at MIN_WORDED
    words or more, from any reply known for sure. Answers to questions none of whose requests could be read
    (the mock cut bodies over its cap) are not held against the run, one per cut body.
    """
    values = {attribute: [f["value"] for f in facts] for attribute, facts in model.facts.items()}
    replies: dict[str, list[list[str]]] = {}
    every_reply: list[list[str]] = []
    sure_replies: list[list[str]] = []
    seen: dict[str, set[str]] = {}
    cut = 0
    for body in bodies:
        cut += isinstance(body, str)  # a body the mock cut at its cap: its question and reply are unknown
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            continue  # an embedding request, or a cut body: no reply to recompute
        question = model.question_of(messages)
        if question is None:
            continue
        prompt = model.prompt_of(messages)
        asked = seen.setdefault(normal(question["question"]), set())
        # Retries repeat a prompt; a pipeline re-asks a few times at most: the rest is not judged (bounded work).
        if prompt not in asked and len(asked) < MAX_PROMPTS_PER_QUESTION:
            asked.add(prompt)
            possible = [words(r) for r in model.possible_answers(question, prompt)]
            replies.setdefault(normal(question["question"]), []).extend(possible)
            every_reply.extend(possible)
            if len(possible) == 1:  # a reply known for sure (not one of the values the model may make up)
                sure_replies.append(possible[0])
    answered, from_model, bad, unknown = 0, 0, [], 0
    for k in keys:
        answer = str(answers.get(k["question_id"], {}).get("answer", ""))
        if not answer.strip() or is_abstention(answer):
            continue
        answered += 1
        own = replies.get(normal(k["question"]), [])
        stated = _values_in(answer, values.get(k["attribute"], []))
        if stated:
            # The model is right only with the gold passage shown: a right value must be in a reply known
            # for sure, never credited to one the model may have made up for another question.
            right = k["answerable"] and words(k["answer"]) in stated
            ok = any(all(_has(r, v) for v in stated) for r in own + (sure_replies if right else every_reply))
        else:  # a reply worded without a value: a cut or wrapped JSON reply, the whole sentence kept
            long = len(words(answer)) >= MIN_WORDED
            ok = any(_said(words(answer), r) for r in (own + sure_replies if long else own))
        from_model += ok
        if not ok and not own and unknown < cut:
            unknown += 1  # its request may be one of the cut bodies: not held against it
        elif not ok:
            bad.append(k["question_id"])
    share = (from_model + unknown) / answered if answered else 0.0
    return {"answered": answered, "from_model": from_model, "unknown": unknown, "share": share, "not_from_model": bad}
