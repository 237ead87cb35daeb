"""Every infrastructure fault is retried by the queue, whatever module raised it (one hierarchy, no tuple)."""

from __future__ import annotations

import subprocess

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

HANGING_ORACLE = '''
import time

time.sleep(3600)  # the mock imports this at start-up: it never listens


def make_oracle(ctx):
    return lambda request: None
'''


@pytest.mark.timeout(180)
def test_a_grading_pod_whose_mock_never_listens_is_retried_not_an_error(db, mini_task, minitask, tmp_path,
                                                                        data_dir, monkeypatch):
    from worksample.grading import submissions
    from worksample.grading.grade import grade_submission
    from worksample.sandbox import docker_pods

    (mini_task / "oracle.py").write_text(HANGING_ORACLE)
    monkeypatch.setattr(docker_pods, "MOCK_READY_TIMEOUT", 8.0)  # the platform's 30 s, shortened for the test
    task = submissions.register_task(mini_task)
    artifacts = tmp_path / "sub"
    minitask.submission(artifacts / "workspace", minitask.GOOD_CELLS)
    sid = submissions.create_submission(task, artifacts)
    try:
        try:
            body, raised = grade_submission(sid, labels={"worksample.test": "1"}), None
        except Exception as exc:  # the job must raise so that the queue retries it
            body, raised = None, exc
        sub = submissions.get_submission(sid)
        assert body is None, f"ended {sub.status.value} with a report instead of a retry: {sub.error}"
        assert "PodStartError" in sub.error and "did not listen" in str(raised), f"{type(raised).__name__}: {raised}"
        assert sub.status.value == "queued" and sub.tries == 1  # given back for the queue's next try
        assert "PodStartError" in sub.error
        assert submissions.report_versions(sid) == []
    finally:
        left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=worksample.data_dir={data_dir}"],
                              capture_output=True, text=True).stdout.split()
        if left:
            subprocess.run(["docker", "rm", "-f", *left], capture_output=True)
