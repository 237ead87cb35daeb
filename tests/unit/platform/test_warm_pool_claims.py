"""Warm pool claims (issue 17), on the pool's own records: many Starts racing for few pods never share one,
a pool serves only its own task version, and a pod given back can be claimed again. No Docker."""

from __future__ import annotations

import json
import threading

import pytest

pytestmark = [pytest.mark.timeout(30)]


def ready_pod(key: str, attempt_id: str) -> None:
    """A ready record as the manager writes it once a pod's JupyterLab answers."""
    from worksample.workspace import warmpool

    path = warmpool.pool_dir("ready") / f"{key}.{attempt_id}.json"
    path.write_text(json.dumps({"attempt_id": attempt_id, "key": key, "task": "t", "pod_id": "p" + attempt_id,
                                "sock": "/nonexistent", "token": "x", "created": 0}))


def test_racing_claims_never_share_a_pod_and_a_released_pod_is_claimable_again(data_dir):
    from worksample.workspace import warmpool

    key = warmpool.pool_key("triage", "v1", "notebook")
    for n in range(3):
        ready_pod(key, f"a{n}")
    ready_pod(warmpool.pool_key("triage", "v0", "notebook"), "stale")  # an older version of the task

    got: list = []
    barrier = threading.Barrier(12)

    def start() -> None:
        barrier.wait()
        got.append(warmpool.claim("triage", "v1", "notebook"))

    threads = [threading.Thread(target=start) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [c.attempt_id for c in got if c is not None]
    assert sorted(claimed) == ["a0", "a1", "a2"]  # each pod to exactly one Start; the other 9 go cold
    assert warmpool.claim("triage", "v1", "notebook") is None  # the stale version's pod is not served

    warmpool.release(next(c for c in got if c is not None and c.attempt_id == "a1"))
    again = warmpool.claim("triage", "v1", "notebook")
    assert again is not None and again.attempt_id == "a1" and again.pod_id == "pa1"
