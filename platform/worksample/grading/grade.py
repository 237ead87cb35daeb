"""The grading job body: `grade_submission(submission_id)`, run by RQ workers (and inline by the CLI).

1. claim the submission (queued → running) or do nothing;
2. grade its workspace in a grading pod (runner) while a heartbeat keeps the claim;
3. store the report and set `graded`.

Infrastructure faults (Docker down, image missing, Redis/DB hiccups inside the
run) give the claim back and re-raise so the queue retries, up to MAX_TRIES;
then the submission ends `error` with an error report. Anything else that
goes wrong is not retried: it ends `error` at once. What the candidate's code
did is never an exception here: it is in the report.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from worksample.config import get_settings
from worksample.db.models import SubmissionStatus
from worksample.errors import InfrastructureError
from worksample.grading import submissions
from worksample.grading.report import build_report, error_report
from worksample.grading.runner import GradingInput, grade_workspace
from worksample.timeouts import grading_ladder

log = logging.getLogger(__name__)


class InfrastructureFault(InfrastructureError):
    """Raised out of the job so the queue retries it (the claim was given back first)."""


def submission_workspace(artifacts: Path) -> Path:
    """The snapshot of /workspace inside a submission's artifacts folder."""
    return artifacts / "workspace" if (artifacts / "workspace").is_dir() else artifacts


def extra_pod_labels() -> dict[str, str]:
    """Labels added to every grading pod (setting `grading_pod_labels`, WORKSAMPLE_GRADING_POD_LABELS)."""
    settings = get_settings()
    return settings.label_map(settings.grading_pod_labels)


def grade_submission(submission_id: str, labels: dict[str, str] | None = None) -> dict | None:
    """Grade one submission; returns the stored report body, or None if there was nothing to do."""
    labels = {**extra_pod_labels(), **(labels or {})}
    claim = submissions.claim(submission_id)
    if claim is None:
        log.info("submission %s is not queued; nothing to do", submission_id)
        return None
    try:
        with submissions.Heartbeat(claim):
            body = _grade(claim, labels)
    # Every InfrastructureError (pod start, quota, kernel, mock, Docker, Redis...) is retried; a socket-level
    # ConnectionError (the stdlib's, e.g. from a client library) is the platform's too.
    except (InfrastructureError, ConnectionError) as exc:
        return _infrastructure_fault(claim, exc)
    except Exception as exc:  # a grader or platform bug: recorded, never retried, never lost
        log.exception("grading %s failed", submission_id)
        body = error_report(submission_id, claim.task_slug, f"grading failed: {type(exc).__name__}: {exc}")
        if submissions.finish(claim, body, SubmissionStatus.error):
            _graded(submission_id)
        return body
    if submissions.finish(claim, body):
        _graded(submission_id)
    return body


def _graded(submission_id: str) -> None:
    from worksample.webhooks import events  # H6: the submission.graded webhook, once per stored report

    events.submission_graded(submission_id)


def _grade(claim: submissions.Claim, labels: dict[str, str] | None) -> dict:
    work_dir = claim.artifacts_path / "grading" / f"{int(time.time() * 1000)}-{claim.token}"
    work_dir.mkdir(parents=True)
    # `task test --seeds N` grades under other mock seeds through the pod label worksample.seed (default 0).
    inp = GradingInput(task_dir=claim.task_path, workspace=submission_workspace(claim.artifacts_path),
                       work_dir=work_dir, labels={"worksample.submission": claim.submission_id, **(labels or {})},
                       seed=int((labels or {}).get("worksample.seed", "0")))
    outcome = grade_workspace(inp)
    body = build_report(submission_id=claim.submission_id, task=outcome.task, task_dir=claim.task_path,
                        result=outcome.result, run=outcome.run.public(), run_dir=outcome.run_dir)
    body["run_dir"] = str(outcome.run_dir)
    body["timings"] = {"queue_wait_s": claim.queue_wait_s, **outcome.timings}
    return body


def _infrastructure_fault(claim: submissions.Claim, exc: Exception) -> dict | None:
    message = f"{type(exc).__name__}: {exc}"
    if claim.token >= submissions.MAX_TRIES:
        body = error_report(claim.submission_id, claim.task_slug,
                            f"gave up after {claim.token} tries: {message}")
        submissions.finish(claim, body, SubmissionStatus.error)
        return body
    submissions.release(claim, message)
    raise InfrastructureFault(message) from exc


def reconcile(running_after: float = submissions.STALE_RUNNING_S, queued_after: float = submissions.STALE_QUEUED_S) -> list[str]:
    """Re-enqueue submissions left behind by a lost worker or a lost Redis; returns their ids.

    Runs in every worker (at start and every reaper pass). Enqueuing twice is
    harmless: only one job can claim a queued submission.
    """
    from worksample.jobs.grading import pending_submission_ids

    pending = pending_submission_ids()  # a queued row whose job still waits needs no second job
    ids = submissions.stale_submissions(running_after=running_after, queued_after=queued_after, skip=pending)
    for submission_id in ids:
        queue_grading(submission_id)
    return ids


def queue_grading(submission_id: str) -> str:
    """Enqueue the grading of a stored submission with its task's job timeout (the ladder's `job`); the job id."""
    from worksample.jobs.grading import enqueue_grading

    run_s, runs = submissions.grading_limits(submission_id)
    ladder = grading_ladder(run_s, runs=runs)
    return enqueue_grading(submission_id, job_timeout=ladder.job)


def grading_dir() -> Path:
    """Where local grading (CLI) keeps submissions: the data dir's `submissions/`."""
    return get_settings().resolved_data_dir / "submissions"
