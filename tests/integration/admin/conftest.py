"""Admin-console integration fixtures: a migrated database, real Redis, and `worksample worker` processes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "attempts"))

from attempts_harness import make_platform, pytest_runtest_makereport  # noqa: E402,F401
from admin_harness import Workers  # noqa: E402


@pytest.fixture
def platform_env(data_dir, redis_url, monkeypatch):
    """A migrated database and a fresh Redis; webhooks may target loopback, retries come fast."""
    from worksample.config import get_settings
    from worksample.db import migrate

    monkeypatch.setenv("WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("WORKSAMPLE_WEBHOOK_RETRY_DELAYS", "1,1,2,2,3")
    get_settings.cache_clear()
    migrate()
    yield {"WORKSAMPLE_DATA_DIR": str(data_dir), "REDIS_URL": redis_url}
    get_settings.cache_clear()


@pytest.fixture
def workers(data_dir, request):
    """Start real workers with `workers.start(**env)`; their logs are printed if the test failed."""
    made = Workers(data_dir)
    yield made
    made.stop_all()
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        print(made.logs())


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback; yields (smtp URL, list of received messages)."""
    from email import message_from_bytes
    from email.policy import default

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's naming)
            received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default)))
            return "250 OK"

    from attempts_harness import free_port

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", received
    controller.stop()
