"""refund-agent's oracle (issue 16): how the mock's models drive an agent through tool calls.

An in-process agent runs each tool call against the task's own service (service.py's
`route`), feeding results back as OpenAI tool messages, as a candidate's loop would.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import random
from pathlib import Path

import pytest

from worksample.mockllm.oracle import OracleContext, OracleRequest, load_oracle

TASK = Path(__file__).resolve().parents[3] / "tasks" / "refund-agent"
EXPECTED = json.loads((TASK / "grader" / "data" / "expected.json").read_text())
MESSAGES = {json.loads(line)["id"]: json.loads(line)["message"]
            for line in (TASK / "grader" / "data" / "holdout" / "conversations.jsonl").read_text().splitlines()}
MINI, PRO = "atlas-mini", "atlas-pro"
pytestmark = pytest.mark.timeout(30)


def tools(names=("get_order", "issue_refund", "escalate")) -> list[dict]:
    return [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in names]


def _import_service():
    spec = importlib.util.spec_from_file_location("refund_agent_service_for_oracle", TASK / "service.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SERVICE = _import_service()


class Ledger:
    """A snapshot of the service's state after one conversation."""

    def __init__(self, state: dict):
        self._state = json.loads(json.dumps(state))

    def state(self) -> dict:
        return self._state


def fresh_service():
    """The service with its state emptied, as the mock gives each run (importing it again costs more)."""
    for name in ("REFUNDS", "ESCALATIONS", "REFUSED"):
        getattr(SERVICE, name).clear()
    SERVICE.BY_KEY.clear()
    return SERVICE


ORACLE = importlib.util.module_from_spec(importlib.util.spec_from_file_location("refund_agent_oracle", TASK / "oracle.py"))
ORACLE.__spec__.loader.exec_module(ORACLE)


@functools.lru_cache(maxsize=None)
def oracle_for(seed: int):
    """The oracle as the mock builds it for a run with `seed` (the module is imported once)."""
    return ORACLE.make_oracle(OracleContext(TASK, seed, (MINI, PRO)))


def drive(kind: str, model: str, seed: int, names=("get_order", "issue_refund", "escalate"), max_turns: int = 30):
    """Run one conversation of `kind` to its end; returns [(tool, args)] and the service."""
    cid = next(c for c, e in EXPECTED.items() if e["kind"] == kind)
    oracle = oracle_for(seed)
    service = fresh_service()
    messages = [{"role": "system", "content": "You are a refund agent."}, {"role": "user", "content": MESSAGES[cid]}]
    calls = []
    for turn in range(max_turns):
        answer = oracle(OracleRequest(model, messages, None, tools(names), None, None, turn, f"h{turn}",
                                      random.Random(f"{seed}-{turn}")))
        if not answer.tool_calls:
            return calls, Ledger(service.state()), answer.content
        call = answer.tool_calls[0]
        calls.append((call["name"], call["arguments"]))
        args, canonical = call["arguments"], call["name"].split("_")[-1]
        if "order" in canonical:
            result = service.route("GET", f"/orders/{args.get('order_id')}", None, None)[1] if "order_id" in args \
                else {"error": "invalid_arguments"}
        elif "refund" in canonical:
            result = service.route("POST", "/refunds", args, f"{cid}-{turn}")[1]
        else:
            result = service.route("POST", "/escalations", {"conversation_id": cid, **args}, None)[1]
        messages += [{"role": "assistant", "content": None, "tool_calls": [
                         {"id": f"c{turn}", "type": "function", "function": {"name": call["name"], "arguments": json.dumps(args)}}]},
                     {"role": "tool", "tool_call_id": f"c{turn}", "content": json.dumps(result)}]
    return calls, Ledger(service.state()), None


def test_an_eligible_refund_is_looked_up_then_refunded_for_what_is_left() -> None:
    expected = next(e for e in EXPECTED.values() if e["kind"] == "refund")
    calls, service, words = drive("refund", PRO, seed=1)
    assert calls[0] == ("get_order", {"order_id": expected["order_id"]})
    assert ("issue_refund", {"order_id": expected["order_id"], "amount": expected["amount"],
                             "reason": "damaged or faulty item"}) in calls
    assert words and "refund" in words.lower()


def test_wrong_arguments_come_sometimes_and_are_put_right_after_an_error() -> None:
    own = next(e for e in EXPECTED.values() if e["kind"] == "refund")["order_id"]
    runs = [drive("refund", MINI, seed)[0] for seed in range(40)]
    wrong = [calls for calls in runs if calls[0] != ("get_order", {"order_id": own})]
    assert 3 <= len(wrong) <= 20, len(wrong)  # ~25 % for the cheap model
    for calls in wrong:  # the call after an argument error is right
        assert calls[1] == ("get_order", {"order_id": own})


def test_an_unknown_order_makes_the_cheap_model_loop_and_the_premium_one_give_up_sooner() -> None:
    mini, _, _ = drive("unknown", MINI, seed=3)
    pro, _, _ = drive("unknown", PRO, seed=3)
    assert [name for name, _ in mini] == ["get_order"] * 12 + ["escalate"]
    assert [name for name, _ in pro] == ["get_order"] * 3 + ["escalate"]


def test_injected_instructions_are_usually_obeyed_by_the_cheap_model() -> None:
    decoy = next(e for e in EXPECTED.values() if e["kind"] == "injection_other")["decoy_order"]
    obeyed = {model: sum(any(n == "issue_refund" and a.get("order_id") == decoy for n, a in drive("injection_other", model, s)[0])
                         for s in range(30)) for model in (MINI, PRO)}
    assert obeyed[MINI] >= 25 and 6 <= obeyed[PRO] <= 24, obeyed


def test_over_the_limit_the_model_escalates_unless_it_slips_and_then_the_service_refuses() -> None:
    outcomes = [drive("over_limit", MINI, s) for s in range(20)]
    escalated = [calls for calls, _, _ in outcomes if calls[-1][0] == "escalate"]
    slipped = [svc for calls, svc, _ in outcomes if any(n == "issue_refund" for n, _ in calls)]
    assert escalated and slipped  # both happen
    assert all(svc.state()["refused"][0]["error"] == "over_policy_limit" and not svc.state()["refunds"] for svc in slipped)


def test_the_agents_own_tool_names_are_used_and_no_tools_means_words() -> None:
    calls, _, _ = drive("refund", PRO, seed=2, names=("lookup_order", "refund_order", "handoff_escalation"))
    assert calls[0][0] == "lookup_order" and any(n == "refund_order" for n, _ in calls)
    oracle = load_oracle(TASK / "oracle.py", OracleContext(TASK, 0, (MINI, PRO)))
    answer = oracle(OracleRequest(MINI, [{"role": "user", "content": MESSAGES["conv-001"]}], None, None, None, None, 0, "h",
                                  random.Random(0)))
    assert answer.tool_calls is None and answer.content
