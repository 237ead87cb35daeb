"""Hidden oracle for rag-repair: the mock's models answer handbook questions from what the prompt shows them.

How it behaves (the candidate discovers this only by using the API):
- It recognises a handbook question in the last user message by its text
  (public and hold-out questions, case and spacing ignored); anything else
  gets the mock's generic plausible answer.
- It answers correctly only when the gold passage (the page sentence that
  states the fact) is in the prompt, whole. It cites the page id (`HB-0042`)
  written nearest before that passage, if the prompt labels its passages.
- Otherwise it says something plausible and wrong: the same fact about
  another subject when the prompt holds one (a neighbouring office's Wi-Fi,
  restated for the office asked about, citing that page), else a made-up
  value of the right kind.
- When the instructions (system or user text) allow it to say it does not
  know, it does so where the prompt has no passage about the fact: always
  for unanswerable questions, and for answerable ones whose gold passage and
  every same-fact passage are missing. Without that permission it never
  abstains (the `never_abstains` failure).
- Both chat models answer alike; the dearer one only costs more. JSON mode
  (or "JSON" in the prompt) gets `{"answer", "citations"}`; plain prompts get
  the answer and a `Sources:` line.
Standard library only (it runs inside the mock container).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from worksample.mockllm.default_oracle import answer as generic_answer
from worksample.mockllm.oracle import OracleAnswer

IDK = "I don't know: the handbook excerpts I was given do not say."
_LABEL = re.compile(r"\bHB-\d{4}\b")
_SPACE = re.compile(r"\s+")
_MAY_ABSTAIN = re.compile(
    r"don'?t know|do not know|not (know|sure)|cannot (be )?answer|can'?t answer|unanswerable|say so\b"
    r"|not (in|covered by|contained in|present in|found in) the (context|excerpts?|passages?|handbook|sources?|documents?)"
    r"|if the (context|excerpts?|passages?|handbook|sources?|documents?) (does|do|did)n?'?t?( not)? (contain|say|answer|mention)",
    re.IGNORECASE)


def normal(text: str) -> str:
    """Lower case with runs of whitespace made one space: how passages are matched in prompts."""
    return _SPACE.sub(" ", text.lower()).strip()


def _stable(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class RagOracle:
    """Answers handbook questions from the passages in the prompt."""

    def __init__(self, ctx) -> None:
        task_dir = Path(ctx.task_dir) if ctx.task_dir else Path(__file__).resolve().parent
        hidden = task_dir / "grader" / "data"
        self.seed = ctx.seed
        self.questions: dict[str, dict] = {}
        self.facts: dict[str, list[dict]] = {}
        for edition in ("public", "holdout"):
            for row in _jsonl(hidden / f"{edition}_key.jsonl"):
                self.questions[normal(row["question"])] = dict(row, edition=edition)
            for fact in _jsonl(hidden / f"{edition}_facts.jsonl"):
                fact["normal"] = normal(fact["sentence"])
                self.facts.setdefault(fact["attribute"], []).append(fact)

    def find_question(self, text: str) -> dict | None:
        """The known question whose text appears earliest in `text` (None if none does)."""
        text = normal(text)
        found = [(text.find(q), row) for q, row in self.questions.items() if q in text]
        return min(found, key=lambda f: f[0])[1] if found else None

    def __call__(self, request) -> OracleAnswer:
        users = [m.get("content") or "" for m in request.messages if m.get("role") == "user"]
        question = self.find_question(users[-1]) if users else None
        if question is None:
            return generic_answer(request)
        prompt = "\n".join(str(m.get("content") or "") for m in request.messages
                           if m.get("role") in ("system", "developer", "user"))
        answer, citations = self.answer(question, prompt)
        return self._format(request, prompt, answer, citations)

    def answer(self, question: dict, prompt: str) -> tuple[str, list[str]]:
        """(answer text, cited page ids) for `question` given everything the model was shown."""
        text = normal(prompt)
        facts = self.facts.get(question["attribute"], [])
        if question["answerable"]:
            at = text.find(normal(question["gold_sentence"]))
            if at >= 0:
                return question["gold_sentence"], self._cite(text, at)
        may_abstain = bool(_MAY_ABSTAIN.search(self._instructions(prompt, text)))
        # A passage stating the same fact about another subject misleads the model.
        shown = [(text.find(f["normal"]), f) for f in facts
                 if f["subject"] != question["subject"] and f["normal"] in text]
        if may_abstain and (not question["answerable"] or not shown):
            return IDK, []
        if shown:
            at, fact = min(shown, key=lambda s: s[0])
            return fact["sentence"].replace(fact["subject"], question["subject"]), self._cite(text, at)
        return self._made_up(question, facts), _LABEL.findall(prompt)[:1]

    def _instructions(self, prompt: str, text: str) -> str:
        """The prompt without handbook sentences: permission to abstain must come from the instructions."""
        for fact_list in self.facts.values():
            for fact in fact_list:
                if fact["normal"] in text:
                    text = text.replace(fact["normal"], " ")
        return text

    def _cite(self, text: str, at: int) -> list[str]:
        """The page label written nearest before position `at` of the normalised prompt."""
        labels = [m for m in _LABEL.finditer(text.upper()) if m.start() <= at]
        return [labels[-1].group(0)] if labels else []

    def _made_up(self, question: dict, facts: list[dict]) -> str:
        """A confident answer with a value of the right kind from another page (a hallucination)."""
        if not facts:
            return f"Yes, that is covered for {question['subject']}; ask your manager for the details."
        fact = facts[_stable(self.seed, question["question"]) % len(facts)]
        return fact["sentence"].replace(fact["subject"], question["subject"])

    def _format(self, request, prompt: str, answer: str, citations: list[str]) -> OracleAnswer:
        fmt = (request.response_format or {}).get("type")
        if fmt in ("json_object", "json_schema") or re.search(r"\bjson\b", prompt, re.IGNORECASE):
            return OracleAnswer(content=json.dumps({"answer": answer, "citations": citations}))
        sources = f"\nSources: {', '.join(citations)}" if citations else ""
        return OracleAnswer(content=answer + sources)


def make_oracle(ctx):
    """The oracle factory the mock calls once at start-up."""
    return RagOracle(ctx)
