"""Webhooks end to end: real Redis, real `worksample worker` processes, loopback receivers.

A receiver that verifies the signature gets the event once; one that fails twice
gets it on the third try exactly as signed (same id, same body); one that hangs
past the 10 s timeout is logged as a timeout and retried while the others are
served; a deleted webhook stops its pending retries; a URL whose host resolves
to loopback is refused at delivery time when private targets are not allowed.
"""

from __future__ import annotations

import json

import pytest

from admin_harness import wait_for
from receivers import Receiver

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(180)]


def _deliveries(webhook_id: str):
    from worksample.webhooks.registry import deliveries

    return deliveries(webhook_id)


def test_signed_delivery_retries_and_a_hanging_receiver(platform_env, workers):
    from worksample.webhooks import emit
    from worksample.webhooks.registry import create_webhook

    good, flaky, hang = Receiver("ok").start(), Receiver("fail_twice").start(), Receiver("hang", hang_s=14).start()
    try:
        hooks = {}
        for name, rcv in (("good", good), ("flaky", flaky), ("hang", hang)):
            view, secret = create_webhook(rcv.url, ["submission.graded", "invitation.created"])
            rcv.secret = secret
            hooks[name] = view.id
        workers.start(**platform_env, WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE="1",
                      WORKSAMPLE_WEBHOOK_RETRY_DELAYS="1,1,2,2,3")
        event_id = emit("submission.graded", {"submission_id": "s1", "score": 81.5, "passed": True})
        assert event_id and event_id.startswith("msg_")

        # The good receiver is served while the hanging one holds a try open.
        wait_for(lambda: good.requests, 60, what="the good receiver")
        assert good.requests[0].verified is True
        assert good.requests[0].headers["webhook-id"] == event_id
        body = json.loads(good.requests[0].body)
        assert body["type"] == "submission.graded" and body["data"] == {"submission_id": "s1", "score": 81.5,
                                                                         "passed": True}

        wait_for(lambda: len(flaky.requests) >= 3, 60, what="the third try at the flaky receiver")
        third = flaky.requests[2]
        assert third.verified is True and third.body == good.requests[0].body
        assert {r.headers["webhook-id"] for r in flaky.requests} == {event_id}
        log = wait_for(lambda: [d for d in _deliveries(hooks["flaky"]) if d.status != "pending"], 20,
                       what="the flaky delivery to finish")[0]
        assert log.status == "succeeded" and [t.status_code for t in log.tries] == [500, 500, 204]

        hung = wait_for(lambda: [t for t in _deliveries(hooks["hang"])[0].tries if t.error], 60,
                        what="the hanging try to time out")
        assert "timeout after 10s" in hung[0].error and 9_000 <= hung[0].duration_ms < 13_000
        assert _deliveries(hooks["hang"])[0].status == "pending"  # to be retried
        assert len(good.requests) == 1  # delivered once, not once per drain
    finally:
        for rcv in (good, flaky, hang):
            rcv.stop()


def test_deleted_webhook_stops_its_pending_retries(platform_env, workers):
    import time

    from worksample.webhooks import emit
    from worksample.webhooks.registry import create_webhook, delete_webhook

    down = Receiver("always_500").start()
    try:
        view, _secret = create_webhook(down.url, ["attempt.started"])
        workers.start(**platform_env, WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE="1",
                      WORKSAMPLE_WEBHOOK_RETRY_DELAYS="3,3,3,3,3")
        emit("attempt.started", {"attempt_id": "a1"})
        wait_for(lambda: down.requests, 60, what="the first try")
        assert delete_webhook(view.id)  # the pending delivery is cancelled
        time.sleep(8)  # past two retry delays
        assert len(down.requests) == 1
        log = _deliveries(view.id)[0]
        assert log.status == "cancelled" and len(log.tries) == 1
        assert emit("attempt.started", {"attempt_id": "a2"}) is None  # nobody listens any more
    finally:
        down.stop()


def test_loopback_refused_at_delivery_time_after_dns(platform_env, workers):
    from worksample.webhooks import emit
    from worksample.webhooks.registry import create_webhook

    rcv = Receiver("ok").start()
    try:
        # Registered while private targets were allowed; the worker runs without that setting.
        url = rcv.url.replace("127.0.0.1", "localhost")
        view, _secret = create_webhook(url, ["invitation.created"])
        workers.start(**platform_env, WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE="0",
                      WORKSAMPLE_WEBHOOK_RETRY_DELAYS="1,1,1,1,1")
        emit("invitation.created", {"invitation_id": "i1"})
        tries = wait_for(lambda: _deliveries(view.id)[0].tries, 60, what="a try")
        assert tries[0].error.startswith("refused:") and "loopback" in tries[0].error
        assert tries[0].status_code is None and rcv.requests == []
    finally:
        rcv.stop()


def test_registration_refuses_private_and_metadata_targets(platform_env, monkeypatch):
    from worksample.config import get_settings
    from worksample.webhooks.registry import WebhookInvalid, create_webhook
    from worksample.webhooks.targets import TargetRefused

    monkeypatch.setenv("WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE", "0")
    get_settings.cache_clear()
    for url, why in [("http://127.0.0.1:9/x", "loopback"), ("http://10.0.0.5/x", "private"),
                     ("http://169.254.169.254/latest/meta-data", "link-local"), ("ftp://example.com/", "scheme"),
                     ("http://localhost/x", "loopback")]:
        with pytest.raises(TargetRefused, match=why):
            create_webhook(url, ["decision.made"])
    with pytest.raises(WebhookInvalid, match="events: unknown"):
        create_webhook("http://127.0.0.1/x", ["made.up"])
    monkeypatch.setenv("WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE", "1")
    get_settings.cache_clear()
    with pytest.raises(TargetRefused, match="link-local"):
        create_webhook("http://169.254.169.254/", ["decision.made"])
    view, secret = create_webhook("http://127.0.0.1:9/x", ["decision.made"])
    assert secret.startswith("whsec_") and view.events == ["decision.made"]


@pytest.mark.timeout(360)
def test_worker_killed_mid_delivery_loses_nothing(platform_env, workers):
    """SIGKILL the worker while tries are in flight; a fresh worker's reconciler sends every event anyway."""
    from worksample.webhooks import emit
    from worksample.webhooks.registry import create_webhook

    slow = Receiver("hang", hang_s=3).start()  # answers 204, but only after 3 s: tries are in flight
    try:
        view, _secret = create_webhook(slow.url, ["submission.created"])
        env = {**platform_env, "WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE": "1", "WORKSAMPLE_WEBHOOK_TIMEOUT_S": "5"}
        first = workers.start(**env)
        ids = {emit("submission.created", {"submission_id": f"s{i}"}) for i in range(12)}
        wait_for(lambda: slow.requests, 60, what="the first tries to be in flight")
        workers.kill(first)  # SIGKILL to the whole group: work horse and reaper too
        workers.start(**env)
        # Tries cut off by the kill are made again once their lease runs out: every delivery ends succeeded.
        wait_for(lambda: {d.status for d in _deliveries(view.id)} == {"succeeded"}, 240,
                 what="every delivery to succeed after the kill", every=1)
        assert ids <= {r.headers["webhook-id"] for r in slow.requests}
        log = _deliveries(view.id)
        # Tries cut off by the kill are logged as interrupted; their resend is try 2.
        cut = [d for d in log if d.tries and d.tries[0].error and d.tries[0].error.startswith("interrupted")]
        assert cut and all([t.number for t in d.tries] == [1, 2] and d.tries[1].status_code == 204 for d in cut)
        assert len(slow.requests) > len(ids)  # at least once: the receiver saw some events twice (same id)
    finally:
        slow.stop()
