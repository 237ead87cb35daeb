"""The clock starts when the candidate presses Start, not when the invitation was made."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]

WAIT_S = 8


@pytest.mark.timeout(300)
def test_the_deadline_is_start_plus_the_time_limit_not_invite_plus_it(make_platform):
    platform, slug = make_platform(time_limit="30m")
    invitation = platform.invite(platform.admin_token(), slug)
    invited_at = time.time()
    time.sleep(WAIT_S)  # the candidate opens the link a while later
    pressed_at = time.time()
    started, cookie = platform.start_attempt(invitation["token"])
    with platform.candidate(cookie) as client:
        state = client.get(f"/api/v1/attempts/{started['attempt_id']}").json()
    started_at = datetime.fromisoformat(state["started_at"]).timestamp()
    assert pressed_at - 1 <= started_at <= time.time()
    assert state["deadline_ts"] - started_at == pytest.approx(30 * 60, abs=1)
    assert state["deadline_ts"] >= invited_at + 30 * 60 + WAIT_S - 1  # an invite-time clock would be 8 s short
