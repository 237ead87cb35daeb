"""Task services (issue 16, part 1, mock side): a task's service.py served by the mock process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from .conftest import free_port

SERVICE = Path(__file__).parent / "data" / "service_refunds.py"
pytestmark = pytest.mark.timeout(120)


def _start(mock, profile=None, log_path=None):
    port = free_port()
    server = mock(profile or {}, extra=("--service", str(SERVICE), "--service-port", str(port)), log_path=log_path)
    server.service_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(server.service_url + "/ping", timeout=1)
            return server
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _lines(server) -> list[dict]:
    path = server.log_path.parent / "service.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _state(server) -> dict:
    return json.loads((server.log_path.parent / "service_state.json").read_text())


def test_every_call_is_logged_before_its_response_completes(mock) -> None:
    server = _start(mock)
    with httpx.Client(base_url=server.service_url, timeout=10) as client:
        for i, key in enumerate(["k1", "k1", "k2"]):
            r = client.post("/refunds", json={"order": 7, "amount": 10 + i}, headers={"Idempotency-Key": key})
            assert r.status_code in (200, 201)
            # The line is there the moment the client has the answer.
            line = _lines(server)[-1]
            assert line["path"] == "/refunds" and line["idempotency_key"] == key and line["status"] == r.status_code
            assert json.loads(line["request_body"])["amount"] == 10 + i and line["response_body"] == r.text
    assert [r["amount"] for r in _state(server)["refunds"]] == [10, 12]  # the retry with k1 refunded nothing
    # The LLM API beside it is unaffected.
    assert httpx.get(server.base_url + "/models", headers={"authorization": "Bearer k"}, timeout=10).status_code == 200


def test_state_is_fresh_per_run(mock) -> None:
    first = _start(mock)
    httpx.post(first.service_url + "/refunds", json={"amount": 5}, headers={"Idempotency-Key": "a"}, timeout=10)
    assert len(_state(first)["refunds"]) == 1
    first.stop()
    stopped = json.loads((first.log_path.parent / "mock.json").read_text())["stopped"]
    assert stopped["reason"] == "signal" and first.proc.returncode == -15
    again = _start(mock, first.profile_path, log_path=first.log_path)
    r = httpx.post(again.service_url + "/refunds", json={"amount": 5}, headers={"Idempotency-Key": "a"}, timeout=10)
    assert r.status_code == 201 and r.json()["id"] == 1
    assert len(_state(again)["refunds"]) == 1


def test_service_faults_from_the_profile(mock) -> None:
    server = _start(mock, {"service_faults": [{"kind": "server_error", "rate": 1.0}]})
    r = httpx.post(server.service_url + "/refunds", json={"amount": 1}, headers={"Idempotency-Key": "x"}, timeout=10)
    assert r.status_code == 500
    assert _lines(server)[-1]["fault"] == "server_error"
    state = server.log_path.parent / "service_state.json"
    assert not state.exists() or not _state(server)["refunds"]  # the fault answered: the service never ran


def test_a_crashing_service_is_an_infrastructure_fault(mock) -> None:
    server = _start(mock)
    with pytest.raises(httpx.HTTPError):
        httpx.get(server.service_url + "/crash", timeout=10)
    server.proc.wait(10)
    assert server.proc.returncode == 4
    assert _lines(server)[-1]["fault"] == "service_crash"
    stopped = json.loads((server.log_path.parent / "mock.json").read_text())["stopped"]
    assert stopped["reason"] == "service_crash" and "own bug" in stopped["detail"]
