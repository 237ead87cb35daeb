"""Schemathesis against the JSON API's own OpenAPI, as staff (bearer token) and as a candidate (attempt cookie).

A real `worksample serve` on a real Redis and SQLite. Every answer must be below
500; every 4xx must be a JSON error (`detail`), and a validation error
(400/422) must name what was wrong: a non-empty `loc` for each item FastAPI
reports. Examples are bounded (WORKSAMPLE_FUZZ_EXAMPLES per operation, default
5) so CI stays near two minutes; the counts go to var/fuzz/<who>.json.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

pytestmark = [pytest.mark.redis, pytest.mark.docker, pytest.mark.slow]

EXAMPLES = int(os.environ.get("WORKSAMPLE_FUZZ_EXAMPLES", "5"))
COUNTS_DIR = Path(__file__).resolve().parents[2] / "var" / "fuzz"
VENV_BIN = Path(sys.executable).parent
SLUG = "support-ticket-triage"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`worksample serve` on a seeded data dir and a real Redis; yields its URL and the two credentials."""
    from scratch_redis import start_redis

    from worksample.config import get_settings

    base = tmp_path_factory.mktemp("fuzz")
    redis, redis_url = start_redis(base)
    env = dict(os.environ, WORKSAMPLE_DATA_DIR=str(base / "data"), REDIS_URL=redis_url)
    old = {k: os.environ.get(k) for k in ("WORKSAMPLE_DATA_DIR", "REDIS_URL")}
    os.environ.update(WORKSAMPLE_DATA_DIR=env["WORKSAMPLE_DATA_DIR"], REDIS_URL=env["REDIS_URL"])
    get_settings.cache_clear()
    api = None
    try:
        creds = _seed()
        port = _free_port()
        with open(base / "api.log", "wb") as log:
            api = subprocess.Popen([str(VENV_BIN / "worksample"), "serve", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        _wait(url, api)
        yield {"url": url, "log": base / "api.log", **creds}
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=20)
        redis.terminate()
        redis.wait(timeout=10)
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def _wait(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail("worksample serve did not answer")


def _seed() -> dict:
    from worksample.accounts import create_token
    from worksample.catalog.sync import sync_catalog
    from worksample.db import migrate
    from worksample.db.models import Role
    from worksample.workspace.access import ATTEMPT_COOKIE, attempt_cookie_value
    from worksample.workspace.deadlines import start_clock
    from worksample.workspace.invitations import create_invitation

    migrate()
    sync_catalog()
    invitation = create_invitation(SLUG, "Fuzz Candidate", "fuzz@example.com")
    attempt_id, _ = start_clock(invitation.id, 3600)
    return {"admin": create_token(Role.admin, "fuzz-admin"),
            "cookie": f"{ATTEMPT_COOKIE}={attempt_cookie_value(attempt_id)}"}


def _problems(response) -> list[str]:
    """What is wrong with one answer: a 5xx, a 4xx that is not a JSON error, a validation error naming nothing."""
    status = response.status_code
    if status >= 500:
        return [f"{status}: {response.text[:300]}"]
    if status < 400:
        return []
    ctype = response.headers.get("content-type") or [""]
    if not (ctype[0] if isinstance(ctype, list) else ctype).startswith("application/json"):
        return [f"{status} is not JSON: {response.text[:200]}"]
    detail = response.json().get("detail")
    if not detail:
        return [f"{status} without a detail: {response.text[:200]}"]
    if status in (400, 422) and isinstance(detail, list) and not all(item.get("loc") for item in detail):
        return [f"{status} names no field: {detail}"]
    return []


def _fuzz(who: str, served: dict, headers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(served["url"] + "/openapi.json").include(path_regex="^/api/")
    counts: Counter = Counter()
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def one(case) -> None:
            response = case.call(headers=headers, timeout=30)
            counts["cases"] += 1
            counts[f"{response.status_code // 100}xx"] += 1
            counts[f"{case.method} {case.path} {response.status_code}"] += 1
            problems.extend(f"{case.method} {case.formatted_path} {p}" for p in _problems(response))

        one()
    COUNTS_DIR.mkdir(parents=True, exist_ok=True)
    (COUNTS_DIR / f"{who}.json").write_text(json.dumps(dict(sorted(counts.items())), indent=1))
    assert counts["cases"] >= EXAMPLES * 10, counts
    assert not problems, "\n".join(sorted(set(problems))[:40]) + "\n" + served["log"].read_text()[-4000:]


@pytest.mark.timeout(600)
def test_api_as_staff(served):
    _fuzz("staff", served, {"Authorization": f"Bearer {served['admin']}"})


@pytest.mark.timeout(600)
def test_api_as_candidate(served):
    _fuzz("candidate", served, {"Cookie": served["cookie"]})
