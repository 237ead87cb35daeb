"""A small task service for the tests: refunds with idempotency keys, and a route that crashes."""

import json

LEDGER: list[dict] = []
SEEN: dict[str, dict] = {}


def state() -> dict:
    return {"refunds": LEDGER}


async def app(scope, receive, send):
    body = (await receive()).get("body", b"")  # the mock hands a service the whole body in one message
    headers = dict(scope["headers"])
    if scope["path"] == "/crash":
        raise RuntimeError("the service's own bug")
    if scope["method"] == "POST" and scope["path"] == "/refunds":
        key = headers.get(b"idempotency-key", b"").decode()
        if not key:
            status, out = 400, {"error": "Idempotency-Key required"}
        elif key in SEEN:
            status, out = 200, SEEN[key]
        else:
            refund = {"id": len(LEDGER) + 1, **json.loads(body or b"{}")}
            LEDGER.append(refund)
            SEEN[key] = refund
            status, out = 201, refund
    else:
        status, out = 404, {"error": "not found"}
    data = json.dumps(out).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})
