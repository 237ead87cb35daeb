"""Hand the work in: now (the candidate's Submit) or at the deadline (see `deadlines`).

Order matters, and each step is safe to repeat after a crash:
1. stop the pod, so nothing more is written;
2. snapshot the workspace into `<data>/submissions/<id>/workspace/` (files changed after
   the deadline are left out);
3. in one transaction: the Submission row (queued) and the attempt marked closed;
4. unmount the workspace (its image is kept);
5. queue grading. If Redis is down the row stays `queued` and the grading
   reconciler picks it up; the candidate still gets their receipt.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import select

from worksample.config import get_settings
from worksample.db import Attempt, Submission, session_scope
from worksample.db.models import AttemptStatus, SubmissionStatus, new_id, utcnow
from worksample.errors import DockerUnavailable, RedisUnavailable
from worksample.workspace import AttemptClosed, AttemptNotFound, AttemptNotStarted, activity
from worksample.workspace.access import check_host
from worksample.workspace.pods import attempt_dir, attempt_lock, stop_pod, unmount_workspace
from worksample.workspace.snapshot import snapshot_workspace

log = logging.getLogger(__name__)
# An autosave that began a moment before the deadline still counts.
SAVE_GRACE_S = 2.0


def submit_attempt(attempt_id: str, reason: str = "candidate") -> str:
    """Submit the attempt and return the submission id; submitting again returns the same id.

    `reason` is `candidate` (Submit pressed) or `deadline`. Raises AttemptNotFound, AttemptClosed for a
    revoked attempt (withdrawn work is never handed in), and AttemptNotStarted for a candidate's Submit
    before the attempt's workspace first answered.
    """
    with attempt_lock(attempt_id):
        with session_scope() as db:
            row = db.get(Attempt, attempt_id)
            if row is None:
                raise AttemptNotFound(f"no attempt {attempt_id}")
            existing = db.scalar(select(Submission.id).where(Submission.attempt_id == attempt_id))
            if existing is not None:
                return existing
            if row.status is AttemptStatus.revoked:
                raise AttemptClosed(f"attempt {attempt_id} was revoked: there is nothing to submit")
            check_host(attempt_id, row.host)  # the workspace is on its host: a snapshot here would be empty
            if reason == "candidate" and not row.clock_started:
                # Still in the start queue or starting: a Submit now would hand in an empty workspace for good.
                raise AttemptNotStarted("your workspace is still starting and your clock has not started: "
                                        "there is nothing to submit yet")
            task_id, deadline = row.invitation.task_id, row.deadline
        _stop(attempt_id)
        submission_id = new_id()
        artifacts = _snapshot(attempt_id, submission_id, deadline)
        closed = AttemptStatus.expired if reason == "deadline" else AttemptStatus.submitted
        _record(attempt_id, submission_id, task_id, str(artifacts), closed)
        unmount_workspace(attempt_id)
    activity.record(attempt_id, {"kind": "submitted", "reason": reason, "submission_id": submission_id})
    _enqueue(submission_id)
    from worksample.webhooks import events  # H6: webhook event

    events.submission_created(submission_id, reason)
    return submission_id


def _stop(attempt_id: str) -> None:
    try:
        stop_pod(attempt_id)
    except DockerUnavailable as exc:
        # The workspace is on the host: the snapshot can still be taken, and the
        # cutoff keeps anything the still-running pod writes out of it.
        log.warning("attempt %s: could not stop its pod (%s); the reaper will", attempt_id, exc)


def _snapshot(attempt_id: str, submission_id: str, deadline: datetime):
    artifacts = get_settings().resolved_data_dir / "submissions" / submission_id
    workspace = attempt_dir(attempt_id) / "workspace"
    image = attempt_dir(attempt_id) / "workspace.img"
    cutoff = min(utcnow(), deadline).timestamp() + SAVE_GRACE_S
    if image.exists():
        _mount(image, workspace)
        manifest = snapshot_workspace(workspace, artifacts / "workspace", cutoff)
    else:  # the pod never started: an empty hand-in
        (artifacts / "workspace").mkdir(parents=True, exist_ok=True)
        manifest = None
    summary = {"attempt_id": attempt_id, "cutoff_ts": cutoff,
               "files": manifest.files if manifest else [], "bytes": manifest.bytes if manifest else 0,
               "skipped": manifest.skipped if manifest else []}
    (artifacts / "snapshot.json").write_text(json.dumps(summary, indent=1))
    return artifacts


def _mount(image, workspace) -> None:
    from worksample.sandbox import open_workspace

    # Mounted already unless the host rebooted; the size only matters when creating.
    open_workspace(image, workspace, image.stat().st_size)


def _record(attempt_id: str, submission_id: str, task_id: str, artifacts: str, closed: AttemptStatus) -> None:
    with session_scope() as db:
        db.add(Submission(id=submission_id, attempt_id=attempt_id, task_id=task_id,
                          status=SubmissionStatus.queued, artifacts_path=artifacts))
        row = db.get(Attempt, attempt_id)
        row.status = closed
        row.submitted_at = utcnow()
        row.pod_id = None


def _enqueue(submission_id: str) -> None:
    from worksample.grading.grade import queue_grading

    try:
        queue_grading(submission_id)
    except RedisUnavailable as exc:
        log.warning("submission %s stays queued for the reconciler: %s", submission_id, exc)
    except Exception as exc:  # a Redis error mid-call: same outcome, the row is the truth
        log.warning("submission %s stays queued for the reconciler: %s: %s", submission_id, type(exc).__name__, exc)
