"""What the mock's chat models answer to a handbook question, given the prompt: one module for both sides.

The oracle (`oracle.py`, in the mock container) answers with it; the hidden suite recomputes
with it what the model said to each logged prompt (the mock logs requests, not replies), so
the check that answers come from the model judges them against exactly what the model replied.
Standard library only: it runs in the mock container and in the grader image.

Behaviour (the oracle's docstring has the whole story):
- a question is recognised in the last user message by its text (case and spacing ignored);
- with the gold passage in the prompt the answer is that passage, citing the label before it;
- otherwise, with permission to abstain and no passage about the fact, "I don't know";
- otherwise the same fact about another subject shown in the prompt, restated for the subject
  asked about; else a value of the right kind made up from another page (chosen by the seed).
"""

from __future__ import annotations

import hashlib
import re

IDK = "I don't know: the handbook excerpts I was given do not say."
_LABEL = re.compile(r"\bHB-\d{4}\b")
_SPACE = re.compile(r"\s+")
MAY_ABSTAIN = re.compile(
    r"don'?t know|do not know|not (know|sure)|cannot (be )?answer|can'?t answer|unanswerable|say so\b"
    r"|not (in|covered by|contained in|present in|found in) the (context|excerpts?|passages?|handbook|sources?|documents?)"
    r"|if the (context|excerpts?|passages?|handbook|sources?|documents?) (does|do|did)n?'?t?( not)? (contain|say|answer|mention)",
    re.IGNORECASE)


def normal(text: str) -> str:
    """Lower case with runs of whitespace made one space: how passages are matched in prompts."""
    return _SPACE.sub(" ", text.lower()).strip()


def _stable(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


class HandbookModel:
    """Answers handbook questions from the passages in the prompt (keys and facts of both editions)."""

    def __init__(self, keys: list[dict], facts: list[dict], seed: int = 0) -> None:
        self.seed = seed
        self.questions: dict[str, dict] = {normal(row["question"]): row for row in keys}
        self.facts: dict[str, list[dict]] = {}
        for fact in facts:
            self.facts.setdefault(fact["attribute"], []).append(dict(fact, normal=normal(fact["sentence"])))

    def find_question(self, text: str) -> dict | None:
        """The known question whose text appears earliest in `text` (None if none does)."""
        text = normal(text)
        found = [(text.find(q), row) for q, row in self.questions.items() if q in text]
        return min(found, key=lambda f: f[0])[1] if found else None

    def question_of(self, messages: list) -> dict | None:
        """The question a chat request asks (found in its last user message), or None."""
        users = [m.get("content") or "" for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        return self.find_question(str(users[-1])) if users else None

    @staticmethod
    def prompt_of(messages: list) -> str:
        """Everything the model is shown: system, developer and user messages."""
        return "\n".join(str(m.get("content") or "") for m in messages
                         if isinstance(m, dict) and m.get("role") in ("system", "developer", "user"))

    def answer(self, question: dict, prompt: str) -> tuple[str, list[str]]:
        """(answer text, cited page ids) for `question` given everything the model was shown."""
        kind, found = self._decide(question, prompt)
        if kind == "made_up":
            fact = found[_stable(self.seed, question["question"]) % len(found)] if found else None
            return self._restate(question, fact), _LABEL.findall(prompt)[:1]
        return found

    def possible_answers(self, question: dict, prompt: str) -> list[str]:
        """Every answer text the model may give: one, or, where it makes a value up and the seed is not
        known, each value it may pick except the right one. The model is right only with the gold
        passage in the prompt; a made-up answer that happens to be right (one pick in ~70) is left out."""
        kind, found = self._decide(question, prompt)
        if kind == "made_up":
            wrong = [f for f in found if f["subject"] != question["subject"]]
            return [self._restate(question, fact) for fact in wrong] or [self._restate(question, None)]
        return [found[0]]

    def _decide(self, question: dict, prompt: str):
        text = normal(prompt)
        facts = self.facts.get(question["attribute"], [])
        if question["answerable"]:
            at = text.find(normal(question["gold_sentence"]))
            if at >= 0:
                return "answer", (question["gold_sentence"], self._cite(text, at))
        # A passage stating the same fact about another subject misleads the model.
        shown = [(text.find(f["normal"]), f) for f in facts
                 if f["subject"] != question["subject"] and f["normal"] in text]
        if (not question["answerable"] or not shown) and self._may_abstain(text):
            return "abstain", (IDK, [])
        if shown:
            at, fact = min(shown, key=lambda s: s[0])
            return "restated", (self._restate(question, fact), self._cite(text, at))
        return "made_up", facts

    def _may_abstain(self, text: str) -> bool:
        """Whether the instructions allow "I don't know" (permission in a handbook sentence does not count).

        The whole prompt is searched first: without a match there (the common case) there is none in
        the instructions either, and the scan of every fact sentence is skipped."""
        return bool(MAY_ABSTAIN.search(text)) and bool(MAY_ABSTAIN.search(self._instructions(text)))

    def _instructions(self, text: str) -> str:
        """The prompt without handbook sentences: permission to abstain must come from the instructions."""
        for fact_list in self.facts.values():
            for fact in fact_list:
                if fact["normal"] in text:
                    text = text.replace(fact["normal"], " ")
        return text

    @staticmethod
    def _cite(text: str, at: int) -> list[str]:
        """The page label written nearest before position `at` of the normalised prompt."""
        labels = [m for m in _LABEL.finditer(text.upper()) if m.start() <= at]
        return [labels[-1].group(0)] if labels else []

    @staticmethod
    def _restate(question: dict, fact: dict | None) -> str:
        """`fact` told of the subject asked about (a confident wrong answer)."""
        if fact is None:
            return f"Yes, that is covered for {question['subject']}; ask your manager for the details."
        return fact["sentence"].replace(fact["subject"], question["subject"])
