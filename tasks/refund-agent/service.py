"""The company API of the refund-agent task (hidden; DESIGN §14): orders, refunds, escalations.

Served by the mock container on 127.0.0.1:8081, fresh per run. Plain ASGI, standard library only.

    GET  /orders/{id}     200 the order | 404
    POST /refunds         {"order_id", "amount", "reason"?} + Idempotency-Key header (required, 400 without)
                          201 the refund | 200 the same refund again for a key already used
                          | 404 no such order | 422 over the policy limit
    POST /escalations     {"conversation_id", "reason"?, "order_id"?} (Idempotency-Key optional) 201

Like a real payment provider, a refund is sometimes committed and then answered
with 504 (the gateway timed out waiting for the processor): the 2nd and 5th new
refund of each run. A client that retries with the same Idempotency-Key gets the
refund it already made; one that makes up a new key refunds twice.
The service knows only the limit: the refund window, whose order it is and how much
is left to refund (`amount` - `refunded`) are the agent's to keep.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

DATA = json.loads((Path(__file__).resolve().parent / "grader" / "data" / "orders.json").read_text())
ORDERS: dict[str, dict] = DATA["orders"]
LIMIT: float = DATA["limit"]
COMMIT_THEN_504 = {2, 5}  # which new refunds of a run are answered 504 after they were made

REFUNDS: list[dict] = []
ESCALATIONS: list[dict] = []
BY_KEY: dict[str, dict] = {}
REFUSED: list[dict] = []


def state() -> dict:
    """The ledger, for graders: refunds made, escalations opened, refunds refused."""
    return {"refunds": REFUNDS, "escalations": ESCALATIONS, "refused": REFUSED}


def _order_view(order: dict) -> dict:
    refunded = round(order["refunded"] + sum(r["amount"] for r in REFUNDS if r["order_id"] == order["id"]), 2)
    return {**order, "refunded": refunded}


def get_order(order_id: str) -> tuple[int, dict]:
    order = ORDERS.get(order_id)
    if order is None:
        return 404, {"error": "order_not_found", "message": f"no order {order_id[:40]!r}"}
    return 200, _order_view(order)


def refund(body: dict, key: str | None) -> tuple[int, dict]:
    if not key:
        return 400, {"error": "idempotency_key_required", "message": "send an Idempotency-Key header"}
    if key in BY_KEY:
        return 200, BY_KEY[key]
    order_id, amount = body.get("order_id"), body.get("amount")
    if not isinstance(order_id, str) or order_id not in ORDERS:
        return 404, {"error": "order_not_found", "message": f"no order {str(order_id)[:40]!r}"}
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        return 422, {"error": "invalid_amount", "message": "amount must be a positive number"}
    if amount > LIMIT:
        reason = {"error": "over_policy_limit", "message": f"refunds over ${LIMIT:.0f} need a human", "limit": LIMIT}
        REFUSED.append({"order_id": order_id, "amount": amount, "idempotency_key": key, **reason})
        return 422, reason
    made = {"id": f"rf_{len(REFUNDS) + 1}", "order_id": order_id, "amount": round(float(amount), 2),
            "reason": str(body.get("reason", ""))[:200], "idempotency_key": key[:200]}
    REFUNDS.append(made)
    BY_KEY[key] = made
    if len(REFUNDS) in COMMIT_THEN_504:
        return 504, {"error": "gateway_timeout", "message": "the payment processor did not answer in time"}
    return 201, made


def escalate(body: dict, key: str | None) -> tuple[int, dict]:
    if key and key in BY_KEY:
        return 200, BY_KEY[key]
    conversation = body.get("conversation_id")
    if not isinstance(conversation, str) or not conversation:
        return 422, {"error": "conversation_id_required", "message": "name the conversation to hand over"}
    made = {"id": f"esc_{len(ESCALATIONS) + 1}", "conversation_id": conversation[:100],
            "order_id": str(body.get("order_id", ""))[:40], "reason": str(body.get("reason", ""))[:500]}
    ESCALATIONS.append(made)
    if key:
        BY_KEY[key] = made
    return 201, made


def route(method: str, path: str, body: object, key: str | None) -> tuple[int, dict]:
    """Dispatch one call; a body that is not a JSON object is a 400."""
    if method == "GET" and path.startswith("/orders/"):
        return get_order(unquote(path[len("/orders/"):]))
    if method == "POST" and path in ("/refunds", "/escalations"):
        if not isinstance(body, dict):
            return 400, {"error": "invalid_json", "message": "send a JSON object"}
        return refund(body, key) if path == "/refunds" else escalate(body, key)
    return 404, {"error": "not_found", "message": f"no route {method} {path[:80]}"}


async def app(scope, receive, send):
    """The ASGI entry point."""
    # The mock reads a request's body whole (size-capped) before it calls the service and hands it over in
    # one message (worksample.mockllm.service.ServiceServer), so one receive() is the whole body.
    raw = (await receive()).get("body", b"")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = "not json"
    headers = dict(scope["headers"])
    key = headers.get(b"idempotency-key", b"").decode("latin-1").strip() or None
    status, out = route(scope["method"], scope["path"], body, key)
    data = json.dumps(out).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
