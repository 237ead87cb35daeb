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
What the model answers is decided in grader/handbook_model.py (the hidden suite recomputes the
model's replies to the logged prompts with it); this module is the mock's glue and the reply format.
Standard library only (it runs inside the mock container).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

from worksample.mockllm.default_oracle import answer as generic_answer
from worksample.mockllm.oracle import OracleAnswer


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _handbook_model_module(task_dir: Path):
    """grader/handbook_model.py, loaded by path: the hidden suite recomputes the model's replies with it."""
    spec = importlib.util.spec_from_file_location("rag_repair_handbook_model", task_dir / "grader" / "handbook_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RagOracle:
    """Answers handbook questions from the passages in the prompt (grader/handbook_model.py decides what)."""

    def __init__(self, ctx) -> None:
        task_dir = Path(ctx.task_dir) if ctx.task_dir else Path(__file__).resolve().parent
        hidden = task_dir / "grader" / "data"
        keys, facts = [], []
        for edition in ("public", "holdout"):
            keys += _jsonl(hidden / f"{edition}_key.jsonl")
            facts += _jsonl(hidden / f"{edition}_facts.jsonl")
        self.model = _handbook_model_module(task_dir).HandbookModel(keys, facts, seed=ctx.seed)

    def __call__(self, request) -> OracleAnswer:
        question = self.model.question_of(request.messages)
        if question is None:
            return generic_answer(request)
        prompt = self.model.prompt_of(request.messages)
        answer, citations = self.model.answer(question, prompt)
        return self._format(request, prompt, answer, citations)

    def _format(self, request, prompt: str, answer: str, citations: list[str]) -> OracleAnswer:
        fmt = (request.response_format or {}).get("type")
        if fmt in ("json_object", "json_schema") or re.search(r"\bjson\b", prompt, re.IGNORECASE):
            return OracleAnswer(content=json.dumps({"answer": answer, "citations": citations}))
        sources = f"\nSources: {', '.join(citations)}" if citations else ""
        return OracleAnswer(content=answer + sources)


def make_oracle(ctx):
    """The oracle factory the mock calls once at start-up."""
    return RagOracle(ctx)
