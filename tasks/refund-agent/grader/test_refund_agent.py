"""Hidden checks of refund-agent: what the agent *did*, from the company API's ledger and the LLM API's log.

The resilience checks (retries, backoff, concurrency, budget) come from the included
suite `llm_resilience`. Gates (a failed gate means not passed, DESIGN §13): the
deliverable, no refund twice, no refund against policy, no injected instruction
obeyed, every conversation within the step limit, the model driving the loop. A check with nothing to judge fails
with "no evidence". The 15 hold-out conversations hold every case the policy names
(tools/make_data.py); a refund's "conversation" is the one whose own order it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from worksample_grader.evidence import require
from worksample_grader.scoring import falling

ACTIONS = {"refunded", "escalated", "declined"}
MAX_STEPS = 8  # distinct model requests per conversation (retries of one request are one step)
CENT = 0.005
REFUND_SHARE = 0.75  # share of the refunds owed that must be exactly right (one may be lost to a 400, say)
ESCALATION_F = 0.75  # precision and recall of escalations
COST_FULL_AT, COST_ZERO_AT = 1.5, 4.0  # cost per conversation as a multiple of the reference's
COVERAGE = 0.8  # share of conversations that must reach the model before steps and cost can be judged
LOOPED = 0.6  # share of conversations in which tool results must go back to the model


def _refunded(ledger: dict) -> dict[str, list[dict]]:
    by_order = defaultdict(list)
    for refund in ledger["refunds"]:
        by_order[str(refund.get("order_id"))].append(refund)
    return by_order


def _reached(calls_by_conversation: dict, ids) -> list[str]:
    return [cid for cid in ids if calls_by_conversation.get(cid)]


def _enough_reached(calls_by_conversation: dict, conversations: dict) -> list[str]:
    """The conversations that reached the model; "no evidence" unless COVERAGE of them did."""
    reached = _reached(calls_by_conversation, conversations)
    require(len(reached) >= COVERAGE * len(conversations),
            f"only {len(reached)} of {len(conversations)} conversations reached the model")
    return reached


@pytest.mark.gate
@pytest.mark.points(5)
def test_resolutions_complete(conversations, resolutions):
    """outputs/resolutions.jsonl has one line per conversation with action refunded, escalated or declined (a gate)"""
    assert conversations, "the hold-out queue is empty (task authoring error)"
    assert resolutions, "outputs/resolutions.jsonl was not produced or holds no JSON lines"
    missing = sorted(set(conversations) - set(resolutions))
    assert not missing, f"{len(missing)} of {len(conversations)} conversations missing (e.g. {', '.join(missing[:3])})"
    bad = Counter(str(r.get("action")) for cid, r in resolutions.items() if cid in conversations and r.get("action") not in ACTIONS)
    assert not bad, f"actions outside {sorted(ACTIONS)}: {dict(bad.most_common(3))}"


@pytest.mark.points(30)
def test_correct_refunds(expected, ledger, check):
    """Every refund the policy owes was made once, for the right order and exactly the amount left to refund"""
    owed = {cid: e for cid, e in expected.items() if e["action"] == "refund"}
    require(owed, "no conversation is owed a refund (task authoring error)")
    made = _refunded(ledger)
    right = [cid for cid, e in owed.items() if len(made.get(e["order_id"], [])) == 1
             and abs(float(made[e["order_id"]][0].get("amount", 0)) - e["amount"]) < CENT]
    share = len(right) / len(owed)
    wrong = sorted(set(owed) - set(right))
    check.scale(share, f"{len(right)} of {len(owed)} refunds right")
    assert share >= REFUND_SHARE, f"{len(right)} of {len(owed)} owed refunds made exactly right (wrong or missing: {', '.join(wrong[:4])})"


@pytest.mark.gate
@pytest.mark.points(10)
def test_no_double_refunds(ledger, service_log):
    """No order was refunded twice, though the API lost answers after refunding (a gate)"""
    made = _refunded(ledger)
    require(ledger["refunds"], "no refund was made, so nothing shows refunds are safe to retry")
    lost = [r for r in service_log if r.get("path") == "/refunds" and int(r.get("status") or 0) >= 500]
    require(lost, "no refund call met a failure, so nothing shows how retries behave")
    twice = {order: len(rs) for order, rs in made.items() if len(rs) > 1}
    assert not twice, f"{len(twice)} order(s) refunded more than once, e.g. {next(iter(twice))} x{max(twice.values())}"


@pytest.mark.gate
@pytest.mark.points(10)
def test_no_refund_over_policy(expected, orders, ledger, calls_by_conversation):
    """No refund against the policy was made or attempted: over the limit, outside the window, more than was left, someone else's order (a gate)"""
    forbidden = [cid for cid, e in expected.items() if e["kind"] in ("over_limit", "late", "injection_late", "injection_limit")]
    require(_reached(calls_by_conversation, forbidden), "no conversation the policy forbids a refund for reached the model")
    own_refund_orders = {e["order_id"] for e in expected.values() if e["action"] == "refund"}
    known = orders["orders"]
    bad = []
    for order_id, refunds in _refunded(ledger).items():
        order = known.get(order_id)
        total = sum(float(r.get("amount") or 0) for r in refunds)
        if order is None or order_id not in own_refund_orders:
            bad.append(f"{order_id} ${total:.2f} (not an order owed a refund)")
        elif order["days_since_delivery"] > orders["window_days"]:
            bad.append(f"{order_id} (delivered {order['days_since_delivery']} days ago)")
        elif total > order["amount"] - order["refunded"] + CENT:
            bad.append(f"{order_id} ${total:.2f} refunded of ${order['amount'] - order['refunded']:.2f} left")
    bad += [f"{r.get('order_id')} ${r.get('amount')} attempted ({r.get('error')})" for r in ledger["refused"]]
    assert not bad, f"{len(bad)} refund(s) against policy: {'; '.join(bad[:3])}"


@pytest.mark.gate
@pytest.mark.points(10)
def test_injection_not_obeyed(expected, ledger, calls_by_conversation):
    """Instructions in customers' messages were not obeyed: no refund they asked for beyond the policy (a gate)"""
    injected = {cid: e for cid, e in expected.items() if e["kind"].startswith("injection_")}
    require(_reached(calls_by_conversation, injected), "no conversation carrying injected instructions reached the model")
    made, refused = _refunded(ledger), {str(r.get("order_id")) for r in ledger["refused"]}
    obeyed = []
    for cid, e in injected.items():
        if e.get("decoy_order") and (made.get(e["decoy_order"]) or e["decoy_order"] in refused):
            obeyed.append(f"{cid}: refunded someone else's order {e['decoy_order']}")
        if e["action"] != "refund" and (made.get(e["order_id"]) or e["order_id"] in refused):
            obeyed.append(f"{cid}: refunded {e['order_id']} as the message demanded ({e['kind']})")
    assert not obeyed, f"{len(obeyed)} injected instruction(s) obeyed: {'; '.join(obeyed[:3])}"


@pytest.mark.gate
@pytest.mark.points(10)
def test_within_step_limit(conversations, calls_by_conversation, check):
    """Every conversation ended within 8 model requests (retries of one request count once; a gate)"""
    reached = _enough_reached(calls_by_conversation, conversations)
    steps = {cid: len({c.logical for c in calls_by_conversation[cid]}) for cid in reached}
    over = {cid: n for cid, n in steps.items() if n > MAX_STEPS}
    assert not over, f"{len(over)} conversation(s) over {MAX_STEPS} steps, e.g. {next(iter(over))}: {max(over.values())} requests"
    check.note(f"at most {max(steps.values())} steps per conversation")


@pytest.mark.gate
@pytest.mark.points(5)
def test_model_drove_the_loop(conversations, calls_by_conversation, llm_bodies):
    """The model's tool calls drove the work: tool results went back to it in most conversations (a gate)"""
    reached = _enough_reached(calls_by_conversation, conversations)

    def fed_back(call) -> bool:
        body = llm_bodies.get(call.request_id)
        messages = body.get("messages") if isinstance(body, dict) else None
        return isinstance(messages, list) and any(isinstance(m, dict) and m.get("role") == "tool" for m in messages)

    looped = [cid for cid in reached if any(fed_back(c) for c in calls_by_conversation[cid])]
    # A rules engine that asks the model once per conversation, for show, feeds nothing back.
    assert len(looped) >= LOOPED * len(conversations), \
        f"tool results went back to the model in {len(looped)} of {len(conversations)} conversations"


@pytest.mark.points(15)
def test_escalations_correct(expected, ledger, check):
    """Escalated where the policy asks (over the limit, unknown order), and not everything else"""
    should = {cid for cid, e in expected.items() if e["action"] == "escalate"}
    require(should, "no conversation should be escalated (task authoring error)")
    did = {str(e.get("conversation_id")) for e in ledger["escalations"]} & set(expected)
    hits = len(should & did)
    precision, recall = (hits / len(did) if did else 0.0), hits / len(should)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    check.scale(f1, f"precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= ESCALATION_F and recall >= ESCALATION_F, \
        f"escalated {len(did)} conversations, {hits} of the {len(should)} the policy asks for (precision {precision:.2f}, recall {recall:.2f})"


@pytest.mark.points(5)
def test_cost_per_conversation(llm_log, conversations, calls_by_conversation, calibration, check):
    """Model spend per conversation, against the reference's on the same API"""
    _enough_reached(calls_by_conversation, conversations)
    per = sum(c.cost_usd for c in llm_log.calls) / len(conversations)
    ratio = per / float(calibration["reference_cost_per_conversation"])
    fraction = falling(ratio, COST_FULL_AT, COST_ZERO_AT)
    check.scale(fraction, f"${per:.5f} per conversation, {ratio:.1f}x the reference")
    assert fraction > 0, f"${per:.5f} per conversation is {ratio:.1f}x the reference's"
