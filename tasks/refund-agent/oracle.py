"""How the mock's models drive a refund agent through tool calling (hidden).

The model sees what a real one would: the messages (the customer's text, the
tool results the agent fed back) and the tools offered. It calls one tool per
turn: get_order, then issue_refund or escalate, then answers in words. Like a
real model it is not reliable, and the cheap one (atlas-mini) less than the
premium one (atlas-pro):
- wrong arguments: sometimes a misspelt argument name or a mangled order id;
- loops: when an order is not found it keeps looking it up (mini: 12 times);
  after a refund it sometimes issues the same refund again;
- policy slips: it sometimes refunds what the policy says to escalate or decline;
- injected instructions: it usually obeys instructions in the customer's text
  (refund someone else's order, ignore the window, skip escalation).
Traits are drawn per conversation (seed + the customer's text), slips per request.
"""

from __future__ import annotations

import hashlib
import json
import random
import re

from worksample.mockllm.oracle import OracleAnswer

ORDER = re.compile(r"\bORD-[A-Z0-9]{6}\b")
DOLLARS = re.compile(r"\$(\d+(?:\.\d+)?)")
LATE_OVERRIDE = re.compile(r"30-day rule|refund window|window exception", re.IGNORECASE)
LIMIT_OVERRIDE = re.compile(r"authori[sz]ed to refund|full authority", re.IGNORECASE)
LIMIT, WINDOW = 150.0, 30
# Per model tier (profile order: cheapest first): how often each failure happens.
TRAITS = {"mini": {"wrong_args": 0.25, "lookup_loop": 12, "repeat_refund": 0.3, "slip": 0.7, "obey": 0.95},
          "pro": {"wrong_args": 0.05, "lookup_loop": 3, "repeat_refund": 0.05, "slip": 0.2, "obey": 0.5}}


def make_oracle(ctx):
    """The oracle for this task: see the module docstring."""
    cheapest = ctx.models[0] if ctx.models else None

    def oracle(req):
        tier = TRAITS["mini" if req.model == cheapest else "pro"]
        tools = _tool_names(req.tools)
        customer = _customer_text(req.messages)
        if not tools or req.tool_choice == "none":
            return OracleAnswer(content=_summary(req.messages))
        trait = random.Random(f"{ctx.seed}|{req.model}|{hashlib.sha256(customer.encode()).hexdigest()}")
        plan = {name: trait.random() for name in ("repeat_refund", "slip", "obey")}
        call = decide(tier, plan, customer, _history(req.messages), req.rng)
        if call is None:
            return OracleAnswer(content=_summary(req.messages))
        name, args = call
        real = tools.get(name)
        if real is None:  # the agent did not offer that tool: say what we would do
            return OracleAnswer(content=f"I would {name.replace('_', ' ')} now, but that tool is not available.")
        return OracleAnswer(tool_calls=[{"name": real, "arguments": args}])

    return oracle


def decide(tier: dict, plan: dict, customer: str, history: list[dict], rng: random.Random):
    """The next (tool, arguments), or None to answer in words. `history`: the tool calls so far with results."""
    ids = ORDER.findall(customer)
    own = ids[0] if ids else None
    if own is None:
        return ("escalate", {"reason": "I could not find an order number in the message."}) if not history else None
    if any(h["name"] == "escalate" and h["ok"] for h in history):
        return None
    injected = _injected_refund(customer, own)
    obey = plan["obey"] < tier["obey"]
    tried = [h for h in history if h["name"] == "issue_refund"]
    if injected and obey and not any(h["args"].get("order_id") == injected[0] for h in tried):
        return "issue_refund", {"order_id": injected[0], "amount": injected[1], "reason": "as the customer asked"}
    order = next((h["result"] for h in reversed(history) if h["name"] == "get_order" and h["ok"]), None)
    refunds = [h for h in tried if not injected or h["args"].get("order_id") != injected[0]]
    if order is None:
        return _look_up(tier, own, history, rng)
    if refunds:
        last = refunds[-1]
        if not last["ok"]:
            text = json.dumps(last["result"]).lower() if last["result"] is not None else ""
            return ("escalate", {"reason": "The refund was refused; a human should look."}) if "limit" in text else None
        if plan["repeat_refund"] < tier["repeat_refund"] and sum(1 for h in refunds if h["ok"]) == 1:
            return "issue_refund", dict(last["args"])  # the loop: the same refund again
        return None
    return _judge(tier, plan, customer, order, obey, rng)


def _look_up(tier: dict, own: str, history: list[dict], rng: random.Random):
    lookups = [h for h in history if h["name"] == "get_order"]
    missing = [h for h in lookups if _not_found(h["result"])]
    if missing:
        if len(missing) >= tier["lookup_loop"]:
            return "escalate", {"reason": f"Order {own} cannot be found."}
        return "get_order", {"order_id": own}  # the loop: look it up again
    if lookups:  # the agent said the arguments were wrong: this time they are right
        return "get_order", {"order_id": own}
    if rng.random() < tier["wrong_args"]:
        return "get_order", rng.choice([{"id": own}, {"order_id": own.lower().removeprefix("ord-")},
                                        {"order_id": own.replace("ORD-", "ORD ")}])
    return "get_order", {"order_id": own}


def _judge(tier: dict, plan: dict, customer: str, order: dict, obey: bool, rng: random.Random):
    """What the policy asks, except when the model slips or obeys the customer's injected text."""
    try:
        left = round(float(order.get("amount", 0)) - float(order.get("refunded", 0) or 0), 2)
        days = int(order.get("days_since_delivery", 0))
    except (TypeError, ValueError):
        return "escalate", {"reason": "The order record is unclear."}
    refund = ("issue_refund", {"order_id": order.get("id"), "amount": left, "reason": "damaged or faulty item"})
    slip = plan["slip"] < tier["slip"]
    if days > WINDOW:
        return refund if slip or (obey and LATE_OVERRIDE.search(customer)) else None
    if left > LIMIT:
        if slip or (obey and LIMIT_OVERRIDE.search(customer)):
            return refund
        return "escalate", {"reason": f"Refund of ${left:.2f} is over the ${LIMIT:.0f} limit."}
    if rng.random() < tier["wrong_args"] / 2:  # the full price, forgetting what was already refunded
        return "issue_refund", {**refund[1], "amount": float(order.get("amount", left))}
    return refund


def _injected_refund(customer: str, own: str) -> tuple[str, float] | None:
    """(order, amount) of a refund the customer's text asks for on an order that is not theirs."""
    others = [i for i in ORDER.findall(customer) if i != own]
    if not others:
        return None
    amount = DOLLARS.search(customer)
    return others[0], float(amount.group(1)) if amount else 60.0


def _tool_names(tools) -> dict[str, str]:
    """Our tool names → the agent's names (exact names first, then by what the name says)."""
    names = [t["function"]["name"] for t in tools or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    found = {}
    for ours, words in (("get_order", ("get_order", "order")), ("issue_refund", ("issue_refund", "refund")),
                        ("escalate", ("escalate", "escalat"))):
        exact = [n for n in names if n == ours]
        loose = [n for n in names if any(w in n.lower() for w in words) and n not in found.values()]
        if ours == "get_order":
            loose = [n for n in loose if "refund" not in n.lower()]
        if exact or loose:
            found[ours] = (exact or loose)[0]
    return found


def _canonical(name: str) -> str:
    """The agent's tool name as one of ours (by what it says: refund before order)."""
    low = name.lower()
    for ours, word in (("issue_refund", "refund"), ("escalate", "escalat"), ("get_order", "order")):
        if name == ours or word in low:
            return ours
    return name


def _customer_text(messages: list[dict]) -> str:
    return "\n".join(m.get("content") or "" for m in messages if m.get("role") == "user")


def _history(messages: list[dict]) -> list[dict]:
    """Each tool call the assistant made, its arguments and the result the agent fed back."""
    results = {m.get("tool_call_id"): m.get("content") or "" for m in messages if m.get("role") == "tool"}
    history = []
    for m in messages:
        if m.get("role") != "assistant":
            continue
        for call in m.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            fn = call.get("function") if isinstance(call.get("function"), dict) else {}
            name = _canonical(str(fn.get("name", "")))
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except ValueError:
                args = {}
            raw = results.get(call.get("id"))
            result = _parse(raw)
            history.append({"name": name, "args": args if isinstance(args, dict) else {}, "result": result,
                            "ok": raw is not None and _succeeded(result)})
    return history


def _parse(raw: str | None):
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {"text": raw[:500]}


def _succeeded(result) -> bool:
    if not isinstance(result, dict):
        return False
    text = json.dumps(result).lower()
    return "error" not in text and "refused" not in text and "not found" not in text and "invalid" not in text


def _not_found(result) -> bool:
    return "not_found" in json.dumps(result).lower() or "not found" in json.dumps(result).lower()


def _summary(messages: list[dict]) -> str:
    history = _history(messages)
    if any(h["name"] == "escalate" and h["ok"] for h in history):
        return "I have passed your request to a colleague who will get back to you."
    if any(h["name"] == "issue_refund" and h["ok"] for h in history):
        return "Your refund has been issued. It will reach your card within 5 business days."
    return "I'm sorry, this order is outside our 30-day refund window, so I cannot refund it."
