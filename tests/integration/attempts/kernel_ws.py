"""Run code on an attempt's kernel through the platform's websocket proxy (as the browser does)."""

from __future__ import annotations

import json
import uuid

from websockets.sync.client import connect


def new_kernel(client, attempt_id: str) -> str:
    """Start a kernel through the proxied Jupyter REST API; its id."""
    resp = client.post(f"/w/{attempt_id}/api/kernels", json={"name": "python3"})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def run_cell(platform, cookie: str, attempt_id: str, kernel_id: str, code: str, cell_id: str = "cell",
             timeout: float = 60) -> str:
    """Execute `code` on the kernel (legacy JSON protocol) and return its stdout and any traceback."""
    url = f"ws://127.0.0.1:{platform.port}/w/{attempt_id}/api/kernels/{kernel_id}/channels"
    msg_id = uuid.uuid4().hex
    request = {"channel": "shell", "buffers": [], "parent_header": {}, "metadata": {"cellId": cell_id},
               "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "t", "session": "s",
                          "version": "5.3", "date": "2026-01-01T00:00:00Z"},
               "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                           "allow_stdin": False, "stop_on_error": True}}
    out = []
    with connect(url, additional_headers={"Cookie": f"ws_attempt={cookie}", "Origin": platform.url},
                 open_timeout=30) as ws:
        ws.send(json.dumps(request))
        while True:
            msg = json.loads(ws.recv(timeout=timeout))
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                out.append("\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
