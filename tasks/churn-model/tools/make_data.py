"""Generate the churn-model data (seeded; the output is committed).

    python tasks/churn-model/tools/make_data.py [--seed 2026] [--out DIR]

One simulation of a B2B SaaS customer base over fifteen months (2025-01 to
2026-03) is cut in two, relative to the task folder:

  data/customers.csv               static attributes of every customer seen up to 2026-01
  data/usage.csv                   one row per customer and month, 2025-01..2025-12, with the label
  data/score.csv                   2026-01 rows of the customers still active, no label
  grader/data/holdout/*.csv        the same three files one step later (usage up to 2026-02,
                                   score month 2026-03): mounted at /workspace/data when grading
  grader/data/score_labels.csv     the 2026-03 labels and the simulation's true probability (hidden)

`churned` on a usage row means the customer cancelled during the following
month. The traps the task is about are planted here:
  - `winback_offer_date` leaks the label: the retention team sends a win-back
    offer *after* a cancellation, so in usage.csv it is filled almost only for
    churned rows; in score months marketing mails a random sample instead;
  - the same customers appear in many rows (one per month until they leave);
  - `avg_session_minutes` drifts: a product change makes sessions longer every
    month, so its raw value means less engagement as time goes on;
  - churn is rare (about 5 % a month).
Only the standard library, so it runs anywhere the task does.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
MONTHS = [f"{2025 + (i // 12)}-{i % 12 + 1:02d}" for i in range(15)]  # 2025-01 .. 2026-03
PUBLIC_SCORE, HIDDEN_SCORE = "2026-01", "2026-03"
CUSTOMER_COLUMNS = ["customer_id", "signup_month", "plan", "seats", "region", "acquisition_channel"]
USAGE_COLUMNS = ["customer_id", "month", "active_users", "logins", "avg_session_minutes", "support_tickets",
                 "payment_failures", "nps_score", "monthly_fee", "winback_offer_date"]
LABEL_COLUMNS = ["customer_id", "churned", "true_probability"]
PLANS = {"starter": (0.45, 1, 5, 29.0), "team": (0.40, 5, 30, 19.0), "business": (0.15, 20, 150, 15.0)}
REGIONS = [("NA", 0.4), ("EU", 0.35), ("APAC", 0.15), ("LATAM", 0.1)]
CHANNELS = [("organic", 0.4), ("paid_search", 0.3), ("partner", 0.15), ("sales", 0.15)]
INITIAL_CUSTOMERS, NEW_PER_MONTH = 3000, 190
SESSION_DRIFT = 1.12  # per month: the redesign keeps people in the app longer, whatever their engagement
WINBACK_AFTER_CHURN, WINBACK_BY_MISTAKE, WINBACK_CAMPAIGN = 0.85, 0.004, 0.12


@dataclass
class Customer:
    """One customer's fixed attributes and latent state."""

    id: str
    signup: int  # month index; negative = before 2025-01
    plan: str
    seats: int
    region: str
    channel: str
    engagement: float  # fixed taste for the product
    payer_risk: bool  # a card that keeps failing
    health: float = 0.0  # drifts month to month
    rows: list[dict] = field(default_factory=list)


def pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    """One value from (value, weight) pairs."""
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (normal approximation above 30, where it is indistinguishable here)."""
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def month_name(index: int) -> str:
    """'YYYY-MM' of a month index (0 = 2025-01; negative indexes are earlier)."""
    year, month = divmod(2025 * 12 + index, 12)
    return f"{year}-{month + 1:02d}"


def new_customer(rng: random.Random, number: int, signup: int) -> Customer:
    """A customer signing up in month `signup`."""
    plan = pick(rng, [(name, spec[0]) for name, spec in PLANS.items()])
    _, low, high, _ = PLANS[plan]
    seats = min(high, low + int(rng.expovariate(1 / max(1, (high - low) / 3))))
    return Customer(f"C{number:05d}", signup, plan, seats, pick(rng, REGIONS), pick(rng, CHANNELS),
                    engagement=rng.gauss(0, 1), payer_risk=rng.random() < 0.1, health=rng.gauss(0, 0.8))


def churn_probability(c: Customer, month: int, row: dict) -> float:
    """The simulation's true chance that `c` cancels during the month after `month`."""
    tenure = month - c.signup
    z = (-4.4 - 1.0 * c.engagement - 2.3 * c.health + 0.55 * row["payment_failures"]
         + 0.25 * min(row["support_tickets"], 4) + 0.45 * (tenure < 4) - 0.45 * (c.plan == "business")
         + 0.25 * (c.plan == "starter") + 0.2 * (c.channel == "paid_search"))
    return 1 / (1 + math.exp(-z))


def usage_row(rng: random.Random, c: Customer, month: int) -> dict:
    """What the product recorded about `c` in `month` (the leak column is filled later)."""
    mood = 0.6 * c.engagement + 0.9 * c.health
    share = 1 / (1 + math.exp(-(0.6 + 0.5 * mood)))
    active = sum(rng.random() < share for _ in range(c.seats))
    minutes = math.exp(2.9 + 0.5 * mood + rng.gauss(0, 0.2)) * SESSION_DRIFT ** month
    nps = "" if rng.random() < 0.7 else str(max(0, min(10, round(7 + 1.2 * mood + rng.gauss(0, 1.5)))))
    return {
        "customer_id": c.id, "month": month_name(month), "active_users": active,
        "logins": poisson(rng, active * 9 * math.exp(0.2 * mood)),
        "avg_session_minutes": round(minutes, 1) if active else "",
        "support_tickets": poisson(rng, 0.25 + 0.08 * math.sqrt(c.seats) + 0.6 * (c.health < -0.9)),
        "payment_failures": poisson(rng, 0.6 if c.payer_risk else 0.04), "nps_score": nps,
        "monthly_fee": round(c.seats * PLANS[c.plan][3] * (0.8 if c.seats >= 50 else 1.0), 2),
        "winback_offer_date": "",
    }


def day_in(rng: random.Random, month: int) -> str:
    """A date string inside month index `month`."""
    return f"{month_name(month)}-{rng.randint(1, 28):02d}"


def simulate(seed: int) -> tuple[list[Customer], dict[tuple[str, str], float]]:
    """Run the fifteen months; returns the customers (rows attached) and the true probabilities."""
    rng = random.Random(seed)
    customers = [new_customer(rng, i + 1, -rng.randint(1, 36)) for i in range(INITIAL_CUSTOMERS)]
    active = list(customers)
    truth: dict[tuple[str, str], float] = {}
    for month in range(len(MONTHS)):
        for _ in range(NEW_PER_MONTH):
            c = new_customer(rng, len(customers) + 1, month)
            customers.append(c)
            active.append(c)
        still = []
        for c in active:
            c.health = 0.8 * c.health + rng.gauss(0, 0.55)
            row = usage_row(rng, c, month)
            p = churn_probability(c, month, row)
            truth[(c.id, row["month"])] = p
            row["churned"] = int(rng.random() < p)
            if MONTHS[month] >= PUBLIC_SCORE:  # from 2026 marketing mails a random sample instead
                if rng.random() < WINBACK_CAMPAIGN:
                    row["winback_offer_date"] = day_in(rng, month)
            elif row["churned"] and rng.random() < WINBACK_AFTER_CHURN:
                row["winback_offer_date"] = day_in(rng, month + rng.choice((1, 1, 2)))
            elif rng.random() < WINBACK_BY_MISTAKE:
                row["winback_offer_date"] = day_in(rng, month + 1)
            c.rows.append(row)
            if not row["churned"]:
                still.append(c)
        active = still
    return customers, truth


def cut(customers: list[Customer], score_month: str) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """(customers, labelled usage before `score_month`, score rows, score labels) as of `score_month`."""
    known, usage, score, labels = [], [], [], []
    for c in customers:
        if month_name(c.signup) > score_month:
            continue
        rows = [r for r in c.rows if r["month"] <= score_month]
        if not rows:
            continue
        known.append({"customer_id": c.id, "signup_month": month_name(c.signup), "plan": c.plan, "seats": c.seats,
                      "region": c.region, "acquisition_channel": c.channel})
        usage += [r for r in rows if r["month"] < score_month]
        if rows[-1]["month"] == score_month:
            score.append({k: v for k, v in rows[-1].items() if k != "churned"})
            labels.append({"customer_id": c.id, "churned": rows[-1]["churned"]})
    usage.sort(key=lambda r: (r["month"], r["customer_id"]))
    return known, usage, score, labels


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Write rows with exactly `columns` (LF line ends, so the bytes are the same everywhere)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    """Simulate, cut the public and the hidden view, write both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=TASK_DIR)
    args = parser.parse_args(argv)
    customers, truth = simulate(args.seed)
    for folder, score_month in ((args.out / "data", PUBLIC_SCORE), (args.out / "grader/data/holdout", HIDDEN_SCORE)):
        known, usage, score, labels = cut(customers, score_month)
        write_csv(folder / "customers.csv", CUSTOMER_COLUMNS, known)
        write_csv(folder / "usage.csv", USAGE_COLUMNS + ["churned"], usage)
        write_csv(folder / "score.csv", USAGE_COLUMNS, score)
        print(f"{folder}: {len(known)} customers, {len(usage)} usage rows, {len(score)} to score "
              f"({sum(r['churned'] for r in labels)} churn)")
    for row in labels:  # the hidden score month's answers
        row["true_probability"] = f"{truth[(row['customer_id'], HIDDEN_SCORE)]:.5f}"
    write_csv(args.out / "grader/data/score_labels.csv", LABEL_COLUMNS, labels)


if __name__ == "__main__":
    main()
