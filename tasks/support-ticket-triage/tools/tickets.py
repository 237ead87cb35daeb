"""What the public and the hold-out ticket generators share: text tables, the priority rubric, rows, sets.

The words differ between the two sets (ticket_text.json for the public tickets,
holdout_text.json for the hold-out, which shares none of them); the mechanics are
one: how a table is read, how the tier moves a priority, what a card number and a
label row look like, how an injection is appended, how re-sent tickets are made.
Standard library only.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

TOOLS = Path(__file__).resolve().parent
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PII = list[tuple[str, str]]  # (kind, value) pairs written into one ticket


def read_text(name: str) -> SimpleNamespace:
    """The tables of `name`.json beside this file as attributes (`read_text("ticket_text").TEMPLATES`).

    A table is a list of words, a list of rows, or a dict of such lists by category; rows
    (JSON arrays) come back as tuples, e.g. (subject, body, base priority). Raises
    FileNotFoundError when there is no such file.
    """
    tables = json.loads((TOOLS / f"{name}.json").read_text(encoding="utf-8"))
    return SimpleNamespace(**{key: _rows_as_tuples(value) for key, value in tables.items()})


def _rows_as_tuples(table):
    if isinstance(table, dict):
        return {key: _rows_as_tuples(value) for key, value in table.items()}
    if isinstance(table, list):
        return [tuple(row) if isinstance(row, list) else row for row in table]
    return table


def pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    """One item from (value, weight) pairs."""
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def priority_for(category: str, base: str, tier: str) -> str:
    """The label for a tier: enterprise moves up one step for non-feature issues; a free-tier outage is at most P2.

    `base` is the priority a senior support lead gives a pro-tier customer.
    """
    level = int(base[1])
    if tier == "enterprise" and category != "feature_request" and level > 1:
        level -= 1
    if tier == "free" and category == "outage" and level == 1:
        level = 2
    return f"P{level}"


def card_number(rng: random.Random, first: int, separators: list[str]) -> str:
    """A 16-digit card-like number starting with `first` that passes the Luhn check (not a real card),
    its groups of four joined by one of `separators` ("" for none)."""
    digits = [first] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return rng.choice([sep.join(s[k:k + 4] for k in range(0, 16, 4)) for sep in separators])


def add_tone(rng: random.Random, subject: str, body: str, text: SimpleNamespace) -> tuple[str, str]:
    """(subject, body) with an angry or polite opener and closer from `text`, or left neutral.

    An angry customer shouts the subject (upper case) four times in ten.
    """
    tone = rng.choices(["angry", "polite", "neutral"], [0.2, 0.45, 0.35])[0]
    if tone == "angry":
        body = f"{rng.choice(text.ANGRY_OPENERS)} {body} {rng.choice(text.ANGRY_CLOSERS)}"
        if rng.random() < 0.4:
            subject = subject.upper()
    elif tone == "polite":
        body = f"{rng.choice(text.POLITE_OPENERS)}\n\n{body}\n\n{rng.choice(text.POLITE_CLOSERS)}"
    return subject, body


def new_label(tid: str) -> dict:
    """The label row of an English ticket with nothing special about it yet (category and priority come last)."""
    return {"id": tid, "contains_pii": 0, "injection": 0, "injection_target": "", "duplicate_of": "",
            "language": "en", "multi_issue": 0, "ambiguous": 0}


def add_injection(rng: random.Random, body: str, label: dict, injections: list[str]) -> str:
    """`body` with a line asking the triage to call it a P1 security or outage ticket; marks `label`."""
    target = rng.choice(["security", "outage"])
    label["injection"], label["injection_target"] = 1, f"{target}/P1"
    return body + "\n\n" + rng.choice(injections).format(target=target)


def ticket_row(tid: str, created: datetime, tier: str, channel: str, subject: str, body: str) -> dict:
    """A ticket as the candidate sees it (the columns of tickets.csv)."""
    return {"id": tid, "created_at": created.strftime(TIME_FORMAT), "customer_tier": tier,
            "channel": channel, "subject": subject, "body": body}


def make_set(rng: random.Random, ids: list[str], start: datetime, dup_rate: float, text: SimpleNamespace,
             make_ticket: Callable[[random.Random, str, datetime], tuple[dict, dict, PII]]) -> tuple[list[dict], list[dict], list[dict]]:
    """Tickets made by `make_ticket` over the 30 days from `start`, in time order, their labels and personal data rows.

    Some later tickets (`dup_rate`) re-send an earlier one with a prefix from `text`'s
    RESENT_SUBJECTS and RESENT_BODIES: same labels and personal data, `duplicate_of` set.
    """
    times = sorted(start + timedelta(seconds=rng.randint(0, 30 * 86400)) for _ in ids)
    tickets, labels, pii = [], [], []
    for tid, created in zip(ids, times):
        if tickets and rng.random() < dup_rate:
            k = rng.randrange(len(tickets))
            orig, orig_label = tickets[k], labels[k]
            ticket = dict(orig, id=tid, created_at=created.strftime(TIME_FORMAT),
                          subject=rng.choice(text.RESENT_SUBJECTS) + orig["subject"],
                          body=rng.choice(text.RESENT_BODIES) + orig["body"])
            label = dict(orig_label, id=tid, duplicate_of=orig["id"])
            found = [dict(row, id=tid) for row in pii if row["id"] == orig["id"]]
        else:
            ticket, label, items = make_ticket(rng, tid, created)
            found = [{"id": tid, "kind": kind, "value": value} for kind, value in items]
        tickets.append(ticket)
        labels.append(label)
        pii += found
    return tickets, labels, pii
