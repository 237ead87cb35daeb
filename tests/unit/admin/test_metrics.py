"""/metrics from the database: attempts, submissions by status, grading histograms, mock calls by status."""

from __future__ import annotations

import pytest

from db_rows import add_submission, add_task

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def db(data_dir, monkeypatch):
    from worksample import metrics
    from worksample.db import migrate

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(metrics, "_cache", (0.0, b""))
    migrate()
    return data_dir


def _graded(db_session, task, status, timings, calls):
    from worksample.db import Report

    sub = add_submission(db_session, task, status=status, artifacts_path="/x")
    if timings is not None:
        db_session.add(Report(submission_id=sub.id, version=1, score=1, max_score=2, passed=False,
                              body={"timings": timings, "llm": {"status_counts": calls}}))


def test_metrics_text(db):
    from worksample import metrics
    from worksample.db import session_scope
    from worksample.db.models import SubmissionStatus

    with session_scope() as s:
        task = add_task(s, "t", path="/x")
        _graded(s, task, SubmissionStatus.graded, {"total_s": 40.0, "queue_wait_s": 0.7, "pod_start_s": 1.5},
                {"200": 30, "429": 4})
        _graded(s, task, SubmissionStatus.graded, {"total_s": 700.0, "queue_wait_s": 12.0, "pod_start_s": 0.4},
                {"200": 10, "500": 1})
        _graded(s, task, SubmissionStatus.queued, None, None)
    text = metrics.render().decode()
    assert "worksample_attempts_started_total 3.0" in text
    assert 'worksample_submissions{status="graded"} 2.0' in text and 'worksample_submissions{status="queued"} 1.0' in text
    assert 'worksample_grading_duration_seconds_bucket{le="60.0"} 1.0' in text
    assert 'worksample_grading_duration_seconds_bucket{le="+Inf"} 2.0' in text
    assert "worksample_grading_duration_seconds_sum 740.0" in text
    assert 'worksample_grading_queue_wait_seconds_bucket{le="1.0"} 1.0' in text
    assert 'worksample_grading_pod_start_seconds_bucket{le="0.5"} 1.0' in text
    assert 'worksample_mock_calls_total{status="200"} 40.0' in text and 'worksample_mock_calls_total{status="429"} 4.0' in text
    assert 'worksample_scrape_errors{part="redis"} 1.0' in text  # no Redis here: said, not hidden


def test_each_report_is_read_once_and_new_ones_are_added(db, monkeypatch):
    """A scrape reads only the reports written since the last one (reports never change)."""
    from sqlalchemy import update

    from worksample import metrics
    from worksample.db import Report, session_scope
    from worksample.db.models import SubmissionStatus

    with session_scope() as s:
        task = add_task(s, "t", path="/x")
        _graded(s, task, SubmissionStatus.graded, {"total_s": 40.0}, {"200": 3})
    assert 'worksample_mock_calls_total{status="200"} 3.0' in metrics.render().decode()
    with session_scope() as s:
        # Were the first report read again, this (impossible in the product) edit would show.
        s.execute(update(Report).values(body={"timings": {"total_s": 1.0}, "llm": {"status_counts": {"200": 100}}}))
        _graded(s, task, SubmissionStatus.graded, {"total_s": 700.0}, {"200": 2, "503": 1})
    monkeypatch.setattr(metrics, "_cache", (0.0, b""))
    text = metrics.render().decode()
    assert 'worksample_mock_calls_total{status="200"} 5.0' in text
    assert 'worksample_mock_calls_total{status="503"} 1.0' in text
    assert "worksample_grading_duration_seconds_sum 740.0" in text
    assert 'worksample_grading_duration_seconds_bucket{le="+Inf"} 2.0' in text
