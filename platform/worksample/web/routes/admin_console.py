"""Admin console pages: the catalog (`/tasks`), operations, the audit log; and `/metrics` (DESIGN §12).

`/metrics` answers without a login (Prometheus scrapes it): it holds counts and
timings only, never a name, an e-mail or anything a candidate wrote.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from worksample import audit, metrics
from worksample.admin.catalog import task_figures
from worksample.admin.operations import operations
from worksample.db.models import Role
from worksample.web.deps import Staff, require_staff
from worksample.web.render import page

router = APIRouter()
staff_page = require_staff(page=True)
admin_page = require_staff(Role.admin, page=True)


@router.get("/metrics", include_in_schema=False)
async def metrics_page() -> Response:
    """Platform metrics in the Prometheus text format."""
    body = await run_in_threadpool(metrics.render)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _calibrations(slugs: list[str]) -> dict:
    from worksample.admin.calibration import latest_calibrations

    return latest_calibrations(slugs)


def _tasks_context() -> dict:
    from worksample.admin.invitations import catalog_slugs

    catalog_slugs()  # the catalog's folders, synced into the database (at most every 30 s)
    figures = task_figures()
    return {"tasks": figures, "calibrations": _calibrations([t.slug for t in figures])}


@router.get("/tasks", include_in_schema=False)
async def tasks_page(request: Request, staff: Staff = Depends(staff_page)) -> Response:
    """The catalog: track, time limit, calibration, real scores (histogram), pass rate, median time used."""
    context = await run_in_threadpool(_tasks_context)
    return page(request, "tasks.html", {**context, "staff": staff})


@router.get("/admin/operations", include_in_schema=False)
async def operations_page(request: Request, staff: Staff = Depends(admin_page)) -> Response:
    """Queues, workers and their jobs, failed jobs (retry), running pods."""
    ops = await run_in_threadpool(operations)
    return page(request, "operations.html", {"ops": ops, "staff": staff, "notice": request.query_params.get("done")})


@router.get("/api/v1/admin/operations", tags=["admin"])
async def operations_api(_staff: Staff = Depends(require_staff(Role.admin))) -> dict:
    """The operations page as JSON."""
    ops = await run_in_threadpool(operations)
    return {"queues": [q.__dict__ for q in ops.queues], "workers": [w.__dict__ for w in ops.workers],
            "failed": [f.__dict__ for f in ops.failed],
            "pods": [{**p.__dict__, "deadline": p.deadline.isoformat() if p.deadline else None} for p in ops.pods],
            "errors": ops.errors}


@router.post("/admin/operations/jobs/{job_id}/retry", include_in_schema=False)
async def retry_job(job_id: str, staff: Staff = Depends(admin_page)) -> Response:
    """Put a failed job back on its queue."""
    from worksample.jobs.operations import retry_failed

    ok = await run_in_threadpool(retry_failed, job_id)
    if ok:
        await run_in_threadpool(lambda: audit.record("job.retry", actor=staff, target=job_id))
    return Response(status_code=303, headers={"Location": f"/admin/operations?done={'retried' if ok else 'gone'}"})


@router.get("/admin/audit", include_in_schema=False)
async def audit_page(request: Request, action: str | None = None, before: int | None = None,
                     staff: Staff = Depends(admin_page)) -> Response:
    """The audit log, newest first, 100 a page, filterable by action prefix."""
    rows = await run_in_threadpool(lambda: audit.entries(limit=100, before_id=before, action=action or None))
    return page(request, "audit.html", {"rows": rows, "action": action or "", "staff": staff,
                                        "next_before": rows[-1].id if len(rows) == 100 else None})
