"""The hold-out tickets: composed from holdout_text.json only, so no words are shared with the public set.

`make_holdout_ticket(rng, tid, created)` returns (ticket, label, pii) where
`pii` lists the personal data written into the ticket as (kind, value):
e-mail, phone, card, and the customer's full name (a first name alone is not
counted). Realistic variety: tone, typos, shouting subjects, multi-issue,
other languages, vague tickets, long quoted threads, injections.
Standard library only.

holdout_text.json has its own subjects, sentences, greetings, names,
companies, e-mail domains, phone formats, injection phrasings and languages,
so that labels gathered from the public tickets (by subject or by phrase) do
not carry over; `tests/unit/catalog/test_triage_holdout.py` bounds the overlap.
A body is composed from a category's SITUATIONS (sentence, base priority) and
REQUESTS (what the customer asks for), so the same issue is told in many ways;
priorities follow the public set's rubric (`tickets.priority_for`): the base
is for a pro-tier customer. SECOND_CONCERNS (category, sentence, base
priority) make multi-issue tickets; VAGUE (subject, body, category, base
priority) are labelled as a lead decided; FOREIGN (category, language,
subject, body, base priority); THREAD_REPLY is a quoted earlier exchange (the
customer's newest message decides the label); `{slot}`s are filled from
`holdout_slots`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from tickets import add_injection, add_tone, card_number, new_label, pick, priority_for, read_text, ticket_row

ht = read_text("holdout_text")

TIERS = [("free", 0.40), ("pro", 0.42), ("enterprise", 0.18)]
CHANNELS = [("email", 0.45), ("web_form", 0.3), ("chat", 0.2), ("phone_transcript", 0.05)]
CATEGORY_WEIGHTS = {"billing": 0.16, "bug": 0.21, "account_access": 0.15, "feature_request": 0.11,
                    "outage": 0.09, "security": 0.08, "how_to": 0.20}
PRODUCTS = ["Reports", "Dashboard", "Analytics", "Forms", "Inbox", "the Scheduler", "the mobile app"]


def holdout_slots(rng: random.Random, created: datetime) -> dict:
    """Values for the `{slot}`s of one hold-out ticket."""
    seats = rng.randint(12, 300)
    return {
        "amount": f"{rng.choice(['USD ', '$'])}{rng.randint(20, 5000):,}.{rng.randint(0, 99):02d}",
        "invoice": f"B-{rng.randint(2024, 2026)}-{rng.randint(1000, 9999)}", "month": rng.choice(ht.MONTHS_H),
        "seats": seats, "seats2": max(1, seats - rng.randint(3, 40)), "rows": rng.randint(50, 9000),
        "day": (created - timedelta(days=rng.randint(2, 40))).strftime(rng.choice(["%A %d %B", "%d %b %Y", "%B %d"])),
        "clock": f"{rng.randint(0, 23)}h{rng.choice(['00', '10', '20', '40'])}" if rng.random() < 0.3
        else f"{rng.randint(1, 12)}{rng.choice(['am', 'pm'])}",
        "product": rng.choice(PRODUCTS), "company_h": rng.choice(ht.COMPANIES_H), "team": rng.randint(5, 120),
        "region_h": rng.choice(ht.REGIONS_H), "place": rng.choice(ht.PLACES_H), "projects": rng.randint(20, 400),
        "handle": f"{rng.choice(['sysops', 'helpdesk', 'admin', 'backup'])}_{rng.randint(10, 99)}",
    }


def _misspell(rng: random.Random, text: str, rate: float) -> str:
    """Swap two neighbouring letters in about `rate` of the longer words."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and word.isalpha() and rng.random() < rate:
            j = rng.randrange(1, len(word) - 2)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return " ".join(words)


def _personal(rng: random.Random, body: str, person: str, company: str) -> tuple[str, list[tuple[str, str]]]:
    """Add the customer's personal data to a body; returns the body and what was added."""
    first, last = person.split(" ", 1)
    email = f"{first[0].lower()}{last.lower()}@{rng.choice(ht.DOMAINS_H)}"
    phone = rng.choice([f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                        f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                        f"+81 90-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                        f"(0{rng.randint(20, 99)}) {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"])
    kind = rng.choice(["intro", "signature", "phone", "card", "signature"])
    if kind == "intro":
        return f"This is {person} from {company}. {body}", [("name", person)]
    if kind == "signature":
        return f"{body}\n\n{person}\n{company}\n{email}", [("name", person), ("email", email)]
    if kind == "phone":
        return f"{body} Best number to call: {phone}.", [("phone", phone)]
    card = card_number(rng, 5, [" ", ""])
    return (f"{body} For reference the card used was {card}, valid until {rng.randint(1, 12):02d}/{rng.randint(28, 32)}.",
            [("card", card)])


def _compose(rng: random.Random, category: str, slots: dict) -> tuple[str, str, str]:
    """(subject, body, base priority) of an English ticket of `category`."""
    situation, base = rng.choice(ht.SITUATIONS[category])
    subject = rng.choice(ht.SUBJECTS[category]).format(**slots)
    body = situation.format(**slots) + " " + rng.choice(ht.REQUESTS[category])
    return subject, body, base


def make_holdout_ticket(rng: random.Random, tid: str, created: datetime) -> tuple[dict, dict, list[tuple[str, str]]]:
    """One hold-out ticket, its labels and the personal data written into it."""
    tier, channel = pick(rng, TIERS), pick(rng, CHANNELS)
    person, company = rng.choice(ht.PEOPLE_H), rng.choice(ht.COMPANIES_H)
    label = new_label(tid)
    slots = holdout_slots(rng, created)
    roll = rng.random()
    if roll < 0.05:
        category, lang, subject, body, base = rng.choice(ht.FOREIGN)
        subject, body = subject.format(**slots), body.format(**slots)
        label["language"] = lang
    elif roll < 0.10:
        subject, body, category, base = rng.choice(ht.VAGUE)
        label["ambiguous"] = 1
    else:
        category = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
        subject, body, base = _compose(rng, category, slots)
    priority = priority_for(category, base, tier)
    english = label["language"] == "en"
    if english and not label["ambiguous"] and rng.random() < 0.10:
        other = rng.choice([s for s in ht.SECOND_CONCERNS if s[0] != category])
        body += " " + other[1]
        priority = min(priority, priority_for(other[0], other[2], tier))
        label["multi_issue"] = 1
    if english:
        subject, body = add_tone(rng, subject, body, ht)
        if rng.random() < 0.25:
            body = _misspell(rng, body, rate=0.1)
        if rng.random() < 0.12:
            body += ht.THREAD_REPLY.format(**slots)
    pii: list[tuple[str, str]] = []
    if rng.random() < 0.25:
        body, pii = _personal(rng, body, person, company)
        label["contains_pii"] = 1
    elif english and rng.random() < 0.15:
        body += f"\n\n- {person.split(' ')[0]}"  # a first name alone is not PII here
    if category in ("how_to", "feature_request", "billing") and english and rng.random() < 0.12:
        body = add_injection(rng, body, label, ht.INJECTIONS)
    label.update(category=category, priority=priority)
    return ticket_row(tid, created, tier, channel, subject, body), label, pii
