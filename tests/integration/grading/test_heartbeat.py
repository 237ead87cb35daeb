"""The grading heartbeat: while a claimed grading runs, its row's `updated_at` moves; after it, it stays."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.timeout(60)


def _updated_at(submission_id: str):
    from worksample.grading import submissions

    return submissions.get_submission(submission_id).updated_at


def test_heartbeat_refreshes_a_claim_while_the_block_runs(db, mini_task, minitask, tmp_path):
    from worksample.grading import submissions

    task = submissions.register_task(mini_task)
    minitask.submission(tmp_path / "sub" / "workspace", ["print(1)"])
    sid = submissions.create_submission(task, tmp_path / "sub")
    claim = submissions.claim(sid)
    assert claim is not None
    before = _updated_at(sid)
    with submissions.Heartbeat(claim, every=0.05):
        time.sleep(0.5)
    during = _updated_at(sid)
    assert during > before
    time.sleep(0.3)
    assert _updated_at(sid) == during  # the thread stopped with the block
