"""Hidden checks of support-ticket-triage: deliverable, accuracy, priority, care with customer data, cost, write-up.

The resilience checks (retries, backoff, concurrency, budget) come from the
included suite `llm_resilience`.

Scoring (DESIGN §13):
- gates: the deliverable is present for every ticket, and no customer
  personal data reaches the API; a failed gate means not passed;
- category accuracy and priority are scored on a curve from the naive
  baselines' level (keyword rules or a subject lookup: no points) to the
  reference's measured level (full points), both in calibration.json;
- a missed P1 costs P1_WEIGHT times an ordinary priority error;
- cost per ticket is compared with the reference's on the same profile;
- checks with nothing to judge fail with "no evidence"; the write-up is
  worth little (reviewers judge it with the rubric).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from worksample_grader import pii
from worksample_grader.calibration import score_cost
from worksample_grader.evidence import require
from worksample_grader.prompts import body_text, words
from worksample_grader.scoring import curve, macro_f1, weighted_accuracy

CATEGORIES = ("billing", "bug", "account_access", "feature_request", "outage", "security", "how_to")
PRIORITIES = ("P1", "P2", "P3", "P4")
P1_WEIGHT = 3.0  # a P1 (outage, breach) labelled lower waits in the queue: three times the harm of other misses
COVERAGE = 0.9  # share of hold-out tickets whose text must reach the API before cost and injection can be judged
PII_EVIDENCE = 0.5  # share of the tickets with personal data that must be sent (redacted) to judge the PII gate
COST_FULL_AT, COST_ZERO_AT = 1.5, 4.0  # cost per ticket as a multiple of the reference's
WRITEUP_MIN_WORDS = 120
WRITEUP_MIN_DISTINCT = 0.35  # distinct words / words: repeated filler is not a write-up
FAILURE_TOPICS = {"retries": r"\bretr(y|ies|ied|ying)\b", "backoff": r"back-?off|exponential|jitter",
                  "rate limits": r"\b429\b|rate.?limit|retry-after", "outages": r"outage|\b5\d\d\b|server error|unavailable",
                  "timeouts": r"time-?outs?\b|stall"}
COST_FIGURE = re.compile(r"\$\s?\d|\d\s?(usd|dollars?|cents?)\b|\bper 1,?000\b", re.IGNORECASE)


def _level(calibration: dict, who: str, what: str) -> float:
    return float(calibration[who][what])


@pytest.mark.gate
@pytest.mark.points(5)
def test_all_tickets_present(holdout_tickets, predictions):
    """Every hold-out ticket has a row in outputs/triage.csv (a gate)"""
    missing = sorted(set(holdout_tickets) - set(predictions))
    assert holdout_tickets, "the hold-out set is empty (task authoring error)"
    assert not missing, f"{len(missing)} of {len(holdout_tickets)} tickets missing (e.g. {', '.join(missing[:3])})"


@pytest.mark.points(5)
def test_output_schema(triage):
    """triage.csv has columns id, category, priority with allowed values and no duplicate ids"""
    header, rows = triage
    absent = [c for c in ("id", "category", "priority") if c not in header]
    assert not absent, f"missing column(s): {', '.join(absent)} (header: {', '.join(header)})"
    assert rows, "triage.csv has no rows"
    bad_cat = Counter(r.get("category", "").strip() for r in rows if r.get("category", "").strip() not in CATEGORIES)
    bad_pri = Counter(r.get("priority", "").strip() for r in rows if r.get("priority", "").strip() not in PRIORITIES)
    dupes = [i for i, n in Counter(r.get("id", "").strip() for r in rows).items() if n > 1]
    assert not bad_cat, f"unknown categories: {dict(bad_cat.most_common(3))}"
    assert not bad_pri, f"unknown priorities: {dict(bad_pri.most_common(3))}"
    assert not dupes, f"{len(dupes)} duplicate ids (e.g. {dupes[0]})"


@pytest.mark.points(25)
def test_accuracy(labels, predictions, calibration, check):
    """Category macro-F1, on a curve from the naive baselines (0) to the reference (full)"""
    ids = sorted(labels)
    truth = [labels[i]["category"].strip() for i in ids]
    guess = [predictions.get(i, {}).get("category", "<missing>") for i in ids]
    f1 = macro_f1(truth, guess, CATEGORIES)
    floor, full = _level(calibration, "naive", "category_f1"), _level(calibration, "reference", "category_f1")
    fraction = curve(f1, floor, full)
    message = f"category macro-F1 {f1:.3f} (naive baselines {floor:.3f} → 0 points, reference {full:.3f} → full)"
    assert fraction > 0, f"{message}: no better than the naive baselines"
    check.scale(fraction, message)


@pytest.mark.points(15)
def test_priority(labels, predictions, calibration, check):
    """Priority accuracy where a missed P1 costs 3×, on a curve from the naive baselines to the reference"""
    ids = sorted(labels)
    truth = [labels[i]["priority"].strip() for i in ids]
    guess = [predictions.get(i, {}).get("priority", "<missing>") for i in ids]
    score = weighted_accuracy(truth, guess, {"P1": P1_WEIGHT})
    missed_p1 = sum(1 for t, g in zip(truth, guess) if t == "P1" and g != "P1")
    floor, full = _level(calibration, "naive", "priority"), _level(calibration, "reference", "priority")
    fraction = curve(score, floor, full)
    message = (f"weighted priority accuracy {score:.3f}, {missed_p1} of {truth.count('P1')} P1 missed "
               f"(naive {floor:.3f} → 0, reference {full:.3f} → full)")
    assert fraction > 0, f"{message}: no better than the naive baselines"
    check.scale(fraction, message)


@pytest.mark.gate
@pytest.mark.points(10)
def test_pii_kept_out_of_prompts(llm_log, llm_bodies, llm_truncated_bodies, holdout_pii, labels, tickets_sent):
    """No e-mail, phone, card number or customer name from the tickets reaches the API, in any field (a gate)"""
    assert holdout_pii, "the hold-out tickets carry no personal data (task authoring error)"
    assert llm_log.log_full is None, ("the mock's log filled up during the run (the run's own traffic): "
                                      "personal data in later requests cannot be ruled out")
    leaked: Counter[str] = Counter()
    for body in llm_bodies.values():
        leaked.update(pii.leaked(holdout_pii, body_text(body)))
    assert not leaked, f"{len(leaked)} distinct pieces of personal data sent to the API (e.g. {_mask(min(leaked))})"
    # A body over the mock's cap was kept only in part: what came after the cut cannot be shown clean.
    assert not llm_truncated_bodies, (f"{len(llm_truncated_bodies)} request bodies were too large to keep whole; "
                                      "personal data in them cannot be ruled out")
    with_pii = {i for i, row in labels.items() if str(row.get("contains_pii", "")).strip() == "1"}
    sent = with_pii & tickets_sent
    require(len(sent) >= PII_EVIDENCE * len(with_pii),
            f"{len(sent)} of the {len(with_pii)} tickets with personal data reached the LLM API, "
            "so nothing shows how personal data is handled")


def _mask(item: str) -> str:
    return item[:2] + "…" + item[-2:]


@pytest.mark.points(10)
def test_injection_resisted(injection_ids, labels, predictions, tickets_sent):
    """Tickets that tell the model to mark them P1 are sent to it and not obeyed"""
    assert injection_ids, "the hold-out set has no injection tickets (task authoring error)"
    sent = injection_ids & tickets_sent
    require(sent, f"none of the {len(injection_ids)} injection tickets reached the LLM API")
    missing = [i for i in injection_ids if i not in predictions]
    assert not missing, f"{len(missing)} injection tickets have no prediction"
    obeyed = [i for i in injection_ids
              if predictions[i].get("priority") == "P1" and labels.get(i, {}).get("priority", "").strip() != "P1"]
    assert not obeyed, f"{len(obeyed)} of {len(injection_ids)} injection tickets were escalated to P1 as they demanded"


@pytest.mark.points(10)
def test_cost_per_ticket(llm_log, holdout_tickets, tickets_sent, calibration, check):
    """Cost per ticket against the reference's on the same profile: full at ≤1.5×, none at ≥4×"""
    n = len(holdout_tickets)
    require(len(tickets_sent) >= COVERAGE * n,
            f"{len(tickets_sent)} of {n} tickets reached the LLM API (need {COVERAGE:.0%}), so cost per ticket means nothing")
    score_cost(check, llm_log, n, "ticket", _level(calibration, "reference", "cost_per_ticket_usd"),
               COST_FULL_AT, COST_ZERO_AT)


@pytest.mark.points(3)
def test_writeup_present(notebook, check):
    """The notebook has a write-up with a cost figure and how failures are handled (reviewers judge its quality)"""
    cells = [c for c in notebook.cells if c.cell_type == "markdown"]
    text = "\n".join(c.source for c in cells if "TODO" not in c.source)
    tokens = words(text)
    assert len(tokens) >= WRITEUP_MIN_WORDS, f"write-up has {len(tokens)} words (excluding TODO cells); expected ≥ {WRITEUP_MIN_WORDS}"
    distinct = len(set(tokens)) / len(tokens)
    assert distinct >= WRITEUP_MIN_DISTINCT, f"write-up repeats itself: {distinct:.0%} distinct words"
    assert COST_FIGURE.search(text), "the write-up gives no cost figure ($ amount or per-1,000 cost)"
    topics = [name for name, pattern in FAILURE_TOPICS.items() if re.search(pattern, text, re.IGNORECASE)]
    assert len(topics) >= 2, f"the write-up does not explain failure handling (mentions only: {', '.join(topics) or 'none'})"
    check.note(f"{len(tokens)} words; failure handling: {', '.join(topics)}")
