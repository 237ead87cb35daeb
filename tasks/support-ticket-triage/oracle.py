"""Hidden oracle for support-ticket-triage: the mock's models answer from the labels.

How it behaves (the candidate discovers this only by using the API):
- It finds the ticket(s) in the last user message by their *text* only (word
  4-grams, weighted by rarity, so PII redaction or a changed greeting still
  matches), as a real model can only read what it is sent. Ids in the prompt
  (`TKT-123456`) are echoed back next to the ticket they label, never used
  to look a ticket up: a prompt with an id and no ticket text gets what a
  model would say without the text (a guess that does not depend on whether
  the id exists), so the API cannot be used to look up labels by id.
- Each (ticket, model) is answered correctly with a model-dependent
  probability, seeded by a stable hash, so repeats agree: the cheapest model
  ~80 %, the dearest ~95 %. Ambiguous and non-English tickets are harder.
- Several tickets in one prompt are answered as a JSON list (inside an object
  in JSON mode); long batches hit `max_tokens`, which the mock truncates.
- JSON mode is honoured; without it, JSON is sometimes wrapped in prose or a
  fence, as real models do.
- Tickets carrying prompt-injection text fool the cheapest model unless the
  prompt tells it to treat ticket text as data.
- Prompts with no ticket get the mock's generic plausible answer.
Standard library only (it runs inside the mock container).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path

from worksample.mockllm.default_oracle import answer as generic_answer
from worksample.mockllm.oracle import OracleAnswer

CATEGORIES = ("billing", "bug", "account_access", "feature_request", "outage", "security", "how_to")
CHEAP_ACCURACY, PREMIUM_ACCURACY = 0.84, 0.96
# What a model confuses each category with.
CONFUSIONS = {
    "billing": ("account_access", "how_to"), "bug": ("outage", "how_to"),
    "account_access": ("security", "how_to"), "feature_request": ("how_to", "bug"),
    "outage": ("bug", "bug"), "security": ("account_access", "bug"), "how_to": ("feature_request", "bug"),
}
_ID = re.compile(r"\bTKT-\d{6}\b")
_WORD = re.compile(r"\w+", re.UNICODE)
_SHINGLE = 4
_DEFENDED = re.compile(
    r"untrusted|prompt.injection|do not (follow|obey)|don't (follow|obey)|never (follow|obey)"
    r"|ignore (any|all) instructions (in|inside|within|contained)|not (as )?instructions|as data\b",
    re.IGNORECASE,
)
_REASONS = {
    "billing": "The customer asks about a charge, invoice or refund.",
    "bug": "The product behaves incorrectly for this customer.",
    "account_access": "The customer cannot get into or manage their account.",
    "feature_request": "The customer asks for new functionality.",
    "outage": "The service is unavailable or degraded for many users.",
    "security": "Possible unauthorised access or data exposure.",
    "how_to": "The customer asks how to use an existing feature.",
}


def stable_unit(*parts: object) -> float:
    """A float in [0, 1) from a sha256 of the parts (stable across processes, unlike hash())."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _shingles(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    if len(words) < _SHINGLE:
        return [" ".join(words)] if words else []
    return [" ".join(words[i:i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)]


class TicketIndex:
    """Finds tickets in a prompt by id or by their text."""

    def __init__(self, tickets: dict[str, dict]) -> None:
        self.ids = set(tickets)
        self.tiers = {tid: t.get("customer_tier", "") or "?" for tid, t in tickets.items()}
        self.shingles = {tid: Counter(_shingles(t["subject"] + " " + t["body"])) for tid, t in tickets.items()}
        df = Counter(sh for counts in self.shingles.values() for sh in counts)
        n = len(tickets)
        self.idf = {sh: math.log(1 + n / d) for sh, d in df.items()}
        self.postings: dict[str, list[str]] = {}
        for tid, counts in self.shingles.items():
            for sh in counts:
                self.postings.setdefault(sh, []).append(tid)
        self.weight = {tid: sum(self.idf[sh] for sh in counts) or 1.0 for tid, counts in self.shingles.items()}

    def find(self, text: str) -> list[tuple[str | None, str | None]]:
        """(ticket found by its text, id the prompt names for it) pairs, in order of appearance.

        A ticket named by no id has None as its id; an id with no ticket text
        near it has None as its ticket (the model must answer blind).
        """
        mentions = list(_ID.finditer(text))
        tickets = self._by_text(text)
        if not mentions:
            return [(tid, None) for tid in tickets]
        names = [m.group(0) for m in mentions]
        if len(names) == len(tickets):  # one id per ticket, in the same order, whatever the layout
            return list(zip(tickets, names))
        pairs: list[tuple[str | None, str | None]] = [(tid, None) for tid in self._by_text(text[:mentions[0].start()])]
        for k, mention in enumerate(mentions):
            end = mentions[k + 1].start() if k + 1 < len(mentions) else len(text)
            found = self._by_text(text[mention.start():end])
            pairs.append((found[0] if found else None, mention.group(0)))
            pairs += [(tid, None) for tid in found[1:]]
        return pairs

    def _by_text(self, text: str) -> list[str]:
        found = _shingles(text)
        available = Counter(found)
        first = {}
        for pos, sh in enumerate(found):
            first.setdefault(sh, pos)
        hits: Counter = Counter()
        for sh in available:
            for tid in self.postings.get(sh, ()):
                hits[tid] += self.idf[sh]
        lowered = text.lower()
        # Templated tickets can read the same; the tier, when the prompt gives it, decides.
        candidates = [(round(hits[t] / self.weight[t], 6), self.tiers[t] in lowered, self.weight[t], t)
                      for t in hits if hits[t] / self.weight[t] >= 0.5]
        chosen = []
        # Greedy: best-covered first; a ticket counts only if most of its text is not
        # already explained by a chosen one (so near-identical templates do not pile up).
        for *_, tid in sorted(candidates, reverse=True):
            mine = [sh for sh in self.shingles[tid] if available[sh] > 0]
            if sum(self.idf[sh] for sh in mine) / self.weight[tid] < 0.5:
                continue
            for sh in mine:
                available[sh] -= 1
            chosen.append((min(first[sh] for sh in mine), tid))
        return [tid for _, tid in sorted(chosen)]


def _read(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_data(task_dir: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """(tickets by id, labels by id) for the public and hold-out sets together."""
    tickets = {r["id"]: r for r in _read(task_dir / "data/tickets.csv") + _read(task_dir / "grader/data/holdout/tickets.csv")}
    labels = {r["id"]: r for r in _read(task_dir / "grader/data/public_labels.csv") + _read(task_dir / "grader/data/holdout_labels.csv")}
    return tickets, labels


class TriageOracle:
    """Answers triage prompts from the labels, as a cheap or premium model would."""

    def __init__(self, ctx) -> None:
        task_dir = Path(ctx.task_dir) if ctx.task_dir else Path(__file__).resolve().parent
        self.tickets, self.labels = load_data(task_dir)
        self.index = TicketIndex(self.tickets)
        self.seed = ctx.seed
        self.models = list(ctx.models)

    def accuracy(self, model: str) -> float:
        """Probability that `model` labels a plain ticket right (cheapest first in the profile)."""
        if model not in self.models or len(self.models) < 2:
            return CHEAP_ACCURACY
        rank = self.models.index(model) / (len(self.models) - 1)
        return CHEAP_ACCURACY + (PREMIUM_ACCURACY - CHEAP_ACCURACY) * rank

    def is_cheapest(self, model: str) -> bool:
        """True for the first model of the profile, or an unknown one."""
        return model not in self.models or self.models.index(model) == 0

    def label(self, tid: str, model: str, defended: bool) -> dict:
        """The answer `model` gives for ticket `tid`: category, priority, contains_pii, reason."""
        truth = self.labels[tid]
        key = truth.get("duplicate_of") or tid  # a re-sent ticket gets the same answer as the original
        if truth.get("injection") == "1" and self.is_cheapest(model) and not defended:
            category, priority = truth["injection_target"].split("/")
            return {"category": category, "priority": priority, "contains_pii": truth["contains_pii"] == "1",
                    "reason": "Marked as instructed in the ticket."}
        acc = self.accuracy(model)
        if truth.get("ambiguous") == "1":
            acc -= 0.25
        if truth.get("language", "en") != "en" and self.is_cheapest(model):
            acc -= 0.2
        category = truth["category"]
        if stable_unit(self.seed, key, model, "category") >= acc:
            category = CONFUSIONS[category][int(stable_unit(self.seed, key, model, "which") * 2)]
        priority = truth["priority"]
        if stable_unit(self.seed, key, model, "priority") >= acc:
            level = int(priority[1])
            step = 1 if stable_unit(self.seed, key, model, "dir") < 0.5 else -1
            priority = f"P{level + step if 1 <= level + step <= 4 else level - step}"
        return {"category": category, "priority": priority, "contains_pii": truth["contains_pii"] == "1",
                "reason": _REASONS[category]}

    def blind(self, name: str, model: str) -> dict:
        """What a model says about a ticket it was only given an id for: a guess, the same for any id."""
        category = CATEGORIES[int(stable_unit(self.seed, name, model, "blind") * len(CATEGORIES))]
        priority = "P3" if stable_unit(self.seed, name, model, "blind-priority") < 0.6 else "P4"
        return {"category": category, "priority": priority, "contains_pii": False,
                "reason": "Only an id was given, not the ticket text, so this is a guess."}

    def __call__(self, request) -> OracleAnswer:
        users = [_text(m.get("content")) for m in request.messages if m.get("role") == "user"]
        found = self.index.find(users[-1]) if users else []
        if not any(tid for tid, _ in found) and len(users) > 1:
            found = self.index.find("\n".join(users)) or found
        if not found:
            return generic_answer(request)
        everything = "\n".join(_text(m.get("content")) for m in request.messages
                               if m.get("role") in ("system", "developer", "user"))
        tids = [tid for tid, _ in found if tid]
        # Count the defence only outside the ticket text: injections contain "instructions" too.
        defended = bool(_DEFENDED.search(self._without_tickets(everything, tids)))
        wants_pii = bool(re.search(r"\bpii\b|personal (data|information)|contains_pii", everything, re.IGNORECASE))
        rows = []
        for tid, name in found:
            answer = self.label(tid, request.model, defended) if tid else self.blind(name, request.model)
            row = {"id": name, **answer} if name else answer  # a model can only echo ids the prompt gave it
            if not wants_pii:
                row.pop("contains_pii")
            rows.append(row)
        factor = (1.6 if not self.is_cheapest(request.model) else 1.0) * min(4.0, 1 + 0.08 * (len(rows) - 1))
        return self._format(request, rows, everything, factor)

    def _without_tickets(self, text: str, found: list[str]) -> str:
        for tid in found:
            body = self.tickets[tid]["body"]
            text = text.replace(body, " ")
            for line in body.splitlines():
                if len(line) > 20:
                    text = text.replace(line, " ")
        return text

    def _format(self, request, rows: list[dict], prompt: str, factor: float) -> OracleAnswer:
        tools = [t for t in request.tools or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]
        if tools and request.tool_choice != "none":
            name = _chosen_tool(tools, request.tool_choice)
            return OracleAnswer(tool_calls=[{"name": name, "arguments": row} for row in rows], latency_factor=factor)
        fmt = (request.response_format or {}).get("type")
        if fmt in ("json_object", "json_schema"):
            if len(rows) == 1:
                return OracleAnswer(content=json.dumps(rows[0]), latency_factor=factor)
            key = _array_key(request.response_format) or "results"
            return OracleAnswer(content=json.dumps({key: rows}), latency_factor=factor)
        if re.search(r"json", prompt, re.IGNORECASE):
            text = json.dumps(rows[0] if len(rows) == 1 else rows, indent=1 if len(rows) > 1 else None)
            return OracleAnswer(content=self._dress(request, text), latency_factor=factor)
        if len(rows) == 1:
            r = rows[0]
            text = f"Category: {r['category']}\nPriority: {r['priority']}\nReason: {r['reason']}"
        else:
            text = "\n".join(f"{r.get('id', i + 1)}: {r['category']}, {r['priority']}" for i, r in enumerate(rows))
        return OracleAnswer(content=text, latency_factor=factor)

    def _dress(self, request, text: str) -> str:
        """Without JSON mode, models sometimes wrap JSON in a fence or a sentence."""
        chance = 0.2 if self.is_cheapest(request.model) else 0.05
        draw = request.rng.random()
        if draw < chance / 2:
            return "```json\n" + text + "\n```"
        if draw < chance:
            return "Here is the triage result:\n" + text
        return text


def _text(content: object) -> str:
    """A message's content as text (a list of parts gives their text joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text") or "") if isinstance(p, dict) else str(p) for p in content)
    return ""


def _chosen_tool(tools: list[dict], choice: object) -> str:
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if name:
            return name
    return tools[0]["function"]["name"]


def _array_key(response_format: dict) -> str | None:
    schema = ((response_format or {}).get("json_schema") or {}).get("schema") or {}
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("type") == "array":
            return name
    return None


def make_oracle(ctx):
    """The oracle factory the mock calls once at start-up."""
    return TriageOracle(ctx)
