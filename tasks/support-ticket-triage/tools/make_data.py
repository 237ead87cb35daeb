"""Generate the support-ticket-triage data (seeded; the output is committed).

    python tasks/support-ticket-triage/tools/make_data.py [--seed 2026]

Writes, relative to the task folder:
  data/tickets.csv                     ~600 public tickets, no labels (the candidate sees these)
  grader/data/public_labels.csv        their labels (hidden; the oracle answers from them)
  grader/data/holdout/tickets.csv      ~120 hold-out tickets (mounted at /workspace/data when grading)
  grader/data/holdout_labels.csv       their labels (hidden)
  grader/data/holdout_pii.csv          personal data written into hold-out tickets: id,kind,value (hidden)

The hold-out set comes from holdout.py / holdout_text.json: subjects, phrasings,
names, companies and languages the public set never uses, so labels learnt
from the public tickets by subject or phrase do not carry over.

Ticket columns: id,created_at,customer_tier,channel,subject,body.
Label columns: id,category,priority,contains_pii,injection,injection_target,
duplicate_of,language,multi_issue,ambiguous.
Only the standard library, so it runs anywhere the task does.

The public tickets' words are in ticket_text.json (read by tickets.read_text):
TEMPLATES, category → (subject, body, base priority), `{slot}`s filled by
`fill`; the base priority is the label a senior support lead would give a
pro-tier customer, `tickets.priority_for` adjusts it for the tier.
SECOND_ISSUES (category, sentence, base priority) are appended to make
multi-issue tickets; AMBIGUOUS (subject, body, category, base priority) are
vague tickets labelled as a lead decided after reading the history;
NON_ENGLISH (category, language, subject, body, base priority); RESENT_*
prefix re-sent tickets; INJECTIONS ({target} is a category); ANGRY_* and
POLITE_* openers and closers; the rest are slot values.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holdout import ht, make_holdout_ticket  # noqa: E402
from tickets import (add_injection, add_tone, card_number, make_set, new_label, pick, priority_for,  # noqa: E402
                     read_text, ticket_row)

tt = read_text("ticket_text")

TASK_DIR = Path(__file__).resolve().parent.parent
TICKET_COLUMNS = ["id", "created_at", "customer_tier", "channel", "subject", "body"]
LABEL_COLUMNS = ["id", "category", "priority", "contains_pii", "injection", "injection_target",
                 "duplicate_of", "language", "multi_issue", "ambiguous"]
TIERS = [("free", 0.45), ("pro", 0.40), ("enterprise", 0.15)]
CHANNELS = [("email", 0.5), ("web_form", 0.3), ("chat", 0.15), ("phone_transcript", 0.05)]
# Category mix: support queues are dominated by how-to and bugs.
CATEGORY_WEIGHTS = {"billing": 0.17, "bug": 0.22, "account_access": 0.15, "feature_request": 0.11,
                    "outage": 0.08, "security": 0.07, "how_to": 0.20}
START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def make_slots(rng: random.Random) -> dict:
    """Plausible values for the `{slot}`s of one ticket (subject and body share them)."""
    n = rng.randint(2, 400)
    return {
        "plan": rng.choice(tt.PLANS), "amount": f"${rng.randint(9, 2400)}.{rng.randint(0, 99):02d}",
        "invoice": f"INV-{rng.randint(10000, 99999)}", "order": f"#{rng.randint(100000, 999999)}",
        "date": (START - timedelta(days=rng.randint(1, 60))).strftime(rng.choice(["%b %d", "%d/%m", "%Y-%m-%d"])),
        "time": f"{rng.randint(0, 23):02d}:{rng.choice([0, 5, 15, 30, 45]):02d}",
        "error": rng.choice([f"E{rng.randint(100, 999)}", f"ERR_{rng.randint(1000, 9999)}", "500 Internal Server Error", f"0x{rng.randint(4096, 65535):04X}"]),
        "product": rng.choice(tt.PRODUCTS), "browser": rng.choice(tt.BROWSERS), "company": rng.choice(tt.COMPANIES),
        "person": rng.choice(tt.PEOPLE), "country": rng.choice(tt.COUNTRIES), "region": rng.choice(tt.REGIONS),
        "n": n, "m": max(1, n - rng.randint(1, n)),
    }


def fill(rng: random.Random, text: str, slots: dict | None = None) -> str:
    """Fill the `{slot}`s of a template, with `slots` or fresh values."""
    return text.format(**(slots or make_slots(rng)))


def typo(rng: random.Random, text: str, rate: float) -> str:
    """Swap, drop or double letters in about `rate` of the words."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and word.isalpha() and rng.random() < rate:
            j = rng.randrange(1, len(word) - 1)
            how = rng.randrange(3)
            if how == 0:
                word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
            elif how == 1:
                word = word[:j] + word[j + 1:]
            else:
                word = word[:j] + word[j] + word[j:]
            words[i] = word
    return " ".join(words)


def add_pii(rng: random.Random, body: str, person: str) -> str:
    """Put an email address, a phone number or a card number into the body."""
    first, last = person.split(" ", 1)
    email = f"{first.lower()}.{last.lower().replace(' ', '').replace(chr(39), '')}@{rng.choice(tt.DOMAINS)}"
    phone = rng.choice([f"+1 ({rng.randint(200, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999)}",
                        f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                        f"+49 151 {rng.randint(1000000, 9999999)}", f"0{rng.randint(600000000, 799999999)}"])
    kind = rng.choice(["email", "email", "phone", "card", "both"])
    if kind == "email":
        return body + f"\n\n{person}\n{email}"
    if kind == "phone":
        return body + f" You can reach me on {phone}."
    if kind == "card":
        card = card_number(rng, 4, [" ", "-", ""])
        return body + f" The card ending was charged, full number {card} exp {rng.randint(1, 12):02d}/{rng.randint(27, 31)}."
    return body + f"\n\n-- \n{person}\n{email} | {phone}"


def make_ticket(rng: random.Random, tid: str, created: datetime) -> tuple[dict, dict, list[tuple[str, str]]]:
    """One ticket, its labels and the personal data recorded for it (none: only the hold-out's is checked)."""
    tier, channel, person = pick(rng, TIERS), pick(rng, CHANNELS), rng.choice(tt.PEOPLE)
    label = new_label(tid)
    roll = rng.random()
    if roll < 0.035:
        category, label["language"], subject, body, base = rng.choice(tt.NON_ENGLISH)
    elif roll < 0.085:
        subject, body, category, base = rng.choice(tt.AMBIGUOUS)
        label["ambiguous"] = 1
    else:
        category = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
        subject, body, base = rng.choice(tt.TEMPLATES[category])
    slots = make_slots(rng)
    subject, body = fill(rng, subject, slots), fill(rng, body, slots)
    priority = priority_for(category, base, tier)
    if label["language"] == "en" and not label["ambiguous"] and rng.random() < 0.07:
        other = rng.choice([s for s in tt.SECOND_ISSUES if s[0] != category])
        body += " " + fill(rng, other[1])
        priority = min(priority, other[2])
        label["multi_issue"] = 1
    if label["language"] == "en":
        subject, body = add_tone(rng, subject, body, tt)
        if rng.random() < 0.3:
            body = typo(rng, body, rate=0.08)
        if rng.random() < 0.1:
            body = body.lower()
    if rng.random() < 0.22:
        body = add_pii(rng, body, person)
        label["contains_pii"] = 1
    elif label["language"] == "en" and rng.random() < 0.15:
        body += f"\n\n{person.split(' ')[0]}"  # a first name alone is not PII here
    if category in ("how_to", "feature_request", "billing") and label["language"] == "en" and rng.random() < 0.08:
        body = add_injection(rng, body, label, tt.INJECTIONS)
    label.update(category=category, priority=priority)
    return ticket_row(tid, created, tier, channel, subject, body), label, []


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Write rows as CSV with a header, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    """Generate both sets and write the four files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--public", type=int, default=600)
    parser.add_argument("--holdout", type=int, default=120)
    parser.add_argument("--out", type=Path, default=TASK_DIR)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    numbers = rng.sample(range(100000, 999999), args.public + args.holdout)
    public_ids = [f"TKT-{n}" for n in sorted(numbers[: args.public])]
    holdout_ids = [f"TKT-{n}" for n in sorted(numbers[args.public:])]
    public, public_labels, _ = make_set(random.Random(args.seed * 1000 + 1), public_ids, START, 0.03, tt, make_ticket)
    holdout, holdout_labels, holdout_pii = make_set(random.Random(args.seed * 1000 + 2), holdout_ids, START, 0.04,
                                                    ht, make_holdout_ticket)
    write_csv(args.out / "data/tickets.csv", TICKET_COLUMNS, public)
    write_csv(args.out / "grader/data/public_labels.csv", LABEL_COLUMNS, public_labels)
    write_csv(args.out / "grader/data/holdout/tickets.csv", TICKET_COLUMNS, holdout)
    write_csv(args.out / "grader/data/holdout_labels.csv", LABEL_COLUMNS, holdout_labels)
    write_csv(args.out / "grader/data/holdout_pii.csv", ["id", "kind", "value"], holdout_pii)
    print(f"wrote {len(public)} public and {len(holdout)} hold-out tickets under {args.out}")


if __name__ == "__main__":
    main()
