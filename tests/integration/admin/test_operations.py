"""Operations against a real Redis and a real worker: queue depths, live workers, a failed job listed
and put back on its queue by the retry button, and the page and /metrics saying so."""

from __future__ import annotations

import subprocess

import pytest

from admin_harness import VENV_BIN, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.timeout(180)]


def test_failed_job_is_listed_and_retried(platform_env, workers):
    from fastapi.testclient import TestClient
    from rq import Queue

    from worksample.accounts import create_token
    from worksample.db.models import Role
    from worksample.jobs import connection
    from worksample.jobs import operations as ops
    from worksample.web.app import create_app

    queue = Queue("default", connection=connection())
    job = queue.enqueue("worksample.no_such_module.job", job_id="ops-test-failing", description="a job that fails")
    subprocess.run([str(VENV_BIN / "worksample"), "worker", "--burst"], env={**__import__("os").environ,
                   **platform_env}, capture_output=True, timeout=120)
    failed = wait_for(lambda: [f for f in ops.failed_jobs() if f.id == job.id], 30, what="the failed job")
    assert failed[0].queue == "default" and failed[0].error.startswith("ValueError")
    assert {d.name: d.failed for d in ops.queue_depths()}["default"] == 1

    worker = workers.start(**platform_env)
    wait_for(lambda: ops.workers(), 60, what="a live worker")
    admin = {"Authorization": f"Bearer {create_token(Role.admin, 'ops-admin')}"}
    reviewer = {"Authorization": f"Bearer {create_token(Role.reviewer, 'ops-rev')}"}
    with TestClient(create_app()) as client:
        page = client.get("/admin/operations", headers=admin)
        assert page.status_code == 200 and "ops-test-failing" in page.text and "a job that fails" in page.text
        assert "No worker is alive" not in page.text
        assert client.get("/admin/operations", headers=reviewer).status_code == 403
        assert 'worksample_queue_jobs{queue="default",state="failed"} 1.0' in client.get("/metrics").text
        workers.kill(worker)  # the retried job must wait in the queue to be seen there
        # Redis serves a blocking pop of a client it has not yet seen close: a job pushed in that
        # instant goes to the dead worker and leaves the queue. Wait until Redis knows it is gone.
        blocking = ("blpop", "brpop", "blmove", "bzpop")
        wait_for(lambda: not [c for c in connection().client_list() if c.get("cmd", "").startswith(blocking)],
                 30, what="Redis to drop the killed worker's blocking pop")
        retry = client.post(f"/admin/operations/jobs/{job.id}/retry", headers=admin, follow_redirects=False)
        assert retry.status_code == 303 and retry.headers["location"].endswith("done=retried")
    assert job.id in queue.job_ids and not [f for f in ops.failed_jobs() if f.id == job.id]
    assert ops.retry_failed(job.id) is False  # not failed any more: nothing to retry
