"""Task services (DESIGN §14): a task's hidden `service.py`, served by the mock container on 127.0.0.1:8081.

The service is the candidate's "company API" (orders, refunds, ...). The
file defines `app` (an ASGI application) or `make_app()` returning one, and
may define `state()` returning its state as JSON. It is loaded when the mock
starts, so its state is fresh per run (per mock process). `ServiceServer`
wraps it:

- the request body is read whole first (capped; over the cap the call gets
  413 and never reaches the service), so the service's first `receive()`
  returns all of it in one `http.request` message (`more_body` false);
- every call gets one line in `service.jsonl` beside the mock's call log,
  written before the response's last byte (method, path, query, status,
  fault, latency, the Idempotency-Key header, request and response bodies
  cut at 16 KiB), capped like the call log: when full, calls get 507 and no
  answer goes out without its line;
- after every call the service's `state()` is written whole to
  `service_state.json` (and again when the mock stops), for graders;
- `service_faults` from the profile (server_error, overloaded, bad_gateway,
  timeout, reset at a rate, seeded like the mock's own faults);
- an exception in the service is a fault of the task, never the
  candidate's: the line is logged with fault `service_crash`, mock.json
  records `"stopped": {"reason": "service_crash"}` and the whole mock exits
  with status 4, which the grading pipeline treats as an infrastructure
  fault (a lost mock) and retries.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from worksample.mockllm.profile import Profile
# The mock's own modules (pydantic, asyncio) are imported where used, so that loading a
# service alone (`task validate` does, in a child interpreter) stays cheap.

log = logging.getLogger("worksample.mockllm.service")
SERVICE_PORT = 8081
SERVICE_LOG = "service.jsonl"
SERVICE_STATE = "service_state.json"
EXIT_SERVICE_CRASH = 4
MAX_BODY_BYTES = 1024 * 1024
LOGGED_BODY = 16 * 1024
_DUMP = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
_ERRORS = {"server_error": (500, b'{"error":"internal server error"}'),
           "overloaded": (503, b'{"error":"service unavailable"}'),
           "bad_gateway": (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>")}


class ServiceLoadError(Exception):
    """The service file cannot be imported or has no ASGI app."""


def load_service(path: str | Path):
    """Import a task's service.py; returns (app, state function or None). Raises ServiceLoadError."""
    path = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(f"_worksample_service_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise ServiceLoadError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # a service may import its own helpers beside it
    try:
        spec.loader.exec_module(module)
        app = module.make_app() if callable(getattr(module, "make_app", None)) else getattr(module, "app", None)
    except Exception as exc:  # noqa: BLE001 - task code: report it as the task's fault
        raise ServiceLoadError(f"{path}: cannot load: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(path.parent))
    if not callable(app):
        raise ServiceLoadError(f"{path}: defines neither `app` (ASGI) nor `make_app()`")
    state = getattr(module, "state", None)
    return app, state if callable(state) else None


class ServiceServer:
    """The ASGI wrapper around a task service: log, state, faults, crash handling."""

    def __init__(self, app, state_fn, log_dir: Path, profile: "Profile", seed: int, *, on_crash=None,
                 cap: int | None = None) -> None:
        from worksample.mockllm.calllog import log_cap

        self.app = app
        self.state_fn = state_fn
        self.log_path = Path(log_dir) / SERVICE_LOG
        self.state_path = Path(log_dir) / SERVICE_STATE
        self.faults = [(f.kind, f.rate, f.stall_s) for f in profile.service_faults if f.rate > 0]
        self.seed = seed
        self.cap = log_cap(cap)
        self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.size = os.fstat(self._fd).st_size
        self.index = 0
        self.full = False
        self.on_crash = on_crash or _exit_crashed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return  # no lifespan, no websockets: a service is plain HTTP
        t0, ts = time.monotonic(), time.time()
        index, self.index = self.index, self.index + 1
        record = {"ts": round(ts, 6), "request_id": f"svc_{index}", "method": scope["method"], "path": scope["path"][:500],
                  "query": scope.get("query_string", b"").decode("latin-1")[:500], "status": 0, "fault": None,
                  "latency_ms": 0.0, "idempotency_key": _header(scope, b"idempotency-key"),
                  "request_body": "", "response_body": "", "truncated": False}
        if self.full:
            await _respond(send, 507, b'{"error":"service log full"}')
            return
        body = await _read(receive)
        if body is None:
            record["status"] = 413
            self._log(record, t0)
            await _respond(send, 413, b'{"error":"request body too large"}')
            return
        record["request_body"], cut = _text(body)
        record["truncated"] = cut
        fault = self._draw(index, scope, body)
        if fault is not None:
            await self._fault(fault, record, t0, send)
            return
        status, chunks = 0, []

        async def replay():
            nonlocal body
            if body is not None:
                data, body = body, None
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        async def capture(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                if sum(len(c) for c in chunks) < LOGGED_BODY:
                    chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    record["status"] = status
                    record["response_body"], cut_out = _text(b"".join(chunks))
                    record["truncated"] = record["truncated"] or cut_out
                    if not self._log(record, t0):  # no line, no answer
                        message = {"type": "http.response.body", "body": b"", "more_body": False}
                    self._write_state()
            await send(message)

        try:
            await self.app(scope, replay, capture)
        except Exception as exc:  # noqa: BLE001 - the task's service broke: an infrastructure fault
            log.error("mockllm: the task service failed on %s %s: %s: %s", scope["method"], scope["path"][:200],
                      type(exc).__name__, exc)
            record.update(status=500, fault="service_crash")
            self._log(record, t0)
            self.on_crash(f"{type(exc).__name__}: {exc}"[:500])

    def _draw(self, index: int, scope, body: bytes) -> tuple[str, float | None] | None:
        if not self.faults:
            return None
        from worksample.mockllm.plan import rng_for

        digest = hashlib.sha256(scope["method"].encode() + scope["path"].encode() + body).hexdigest()
        u = rng_for(self.seed, index, digest, "service").random()
        acc = 0.0
        for kind, rate, stall in self.faults:
            acc += rate
            if u < acc:
                return kind, stall
        return None

    async def _fault(self, fault: tuple[str, float | None], record: dict, t0: float, send) -> None:
        kind, stall = fault
        record["fault"] = kind
        if kind in _ERRORS:
            record["status"], payload = _ERRORS[kind]
            if self._log(record, t0):
                await _respond(send, record["status"], payload)
            return
        if kind == "timeout":  # headers, then nothing until the client gives up
            record["status"] = 200
            if not self._log(record, t0):
                return
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            import asyncio

            await asyncio.sleep(stall or 120.0)
        else:  # reset
            self._log(record, t0)
        from worksample.mockllm.responses import abort_connection

        abort_connection(send)

    def _log(self, record: dict, t0: float) -> bool:
        """Write the call's line; False (and the full state) when the log has no room for it."""
        record["latency_ms"] = round((time.monotonic() - t0) * 1000, 3)
        data = (_DUMP(record) + "\n").encode()
        if self.full or self.size + len(data) > self.cap - 1024:
            if not self.full:
                self.full = True
                marker = (_DUMP({"ts": round(time.time(), 6), "request_id": "log_full", "status": 507,
                                 "fault": "log_full", "reason": f"service.jsonl reached its cap of {self.cap} bytes"}) + "\n").encode()
                os.write(self._fd, marker)
            return False
        os.write(self._fd, data)
        self.size += len(data)
        return True

    def _write_state(self) -> None:
        """The service's state, whole, for graders (a failing state() is the task's fault, logged)."""
        if self.state_fn is None:
            return
        try:
            text = json.dumps(self.state_fn(), default=str)
        except Exception as exc:  # noqa: BLE001
            log.error("mockllm: the task service's state() failed: %s: %s", type(exc).__name__, exc)
            return
        tmp = self.state_path.with_name(SERVICE_STATE + ".tmp")
        try:
            tmp.write_text(text + "\n")
            os.replace(tmp, self.state_path)
        except OSError:
            pass

    def close(self) -> None:
        """Write the final state and close the log."""
        self._write_state()
        try:
            os.close(self._fd)
        except OSError:
            pass


def _exit_crashed(reason: str) -> None:
    os._exit(EXIT_SERVICE_CRASH)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")[:200]
    return None


def _text(data: bytes) -> tuple[str, bool]:
    return data[:LOGGED_BODY].decode("utf-8", "replace"), len(data) > LOGGED_BODY


async def _read(receive) -> bytes | None:
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


async def _respond(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
