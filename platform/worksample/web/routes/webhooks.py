"""Webhooks (admin): the registration API, the delivery log, redeliver, and their pages (DESIGN §12).

API: `POST /api/v1/webhooks {"url", "events"}` → 201 `{"id", "secret"}`;
`GET /api/v1/webhooks`; `DELETE /api/v1/webhooks/{id}` (pending retries stop);
`GET /api/v1/webhooks/{id}/deliveries`; `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver`.
Pages: `/admin/webhooks` and `/admin/webhooks/{id}`.

While the app runs, the webhook reconciler runs every RECONCILE_EVERY_S, so
tries lost with Redis or with a killed worker are sent again (at least once).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from worksample import audit
from worksample.db.models import Role
from worksample.errors import WorksampleError
from worksample.web.deps import Staff, read_form, require_staff
from worksample.web.render import page
from worksample.webhooks import EVENTS
from worksample.webhooks import registry
from worksample.webhooks.targets import TargetRefused

log = logging.getLogger(__name__)
RECONCILE_EVERY_S = 10.0


async def _reconcile_forever() -> None:
    from worksample.webhooks.delivery import reconcile

    while True:
        await asyncio.sleep(RECONCILE_EVERY_S)
        try:
            await run_in_threadpool(reconcile)
        except Exception as exc:  # Redis or the database away: the next pass retries
            log.warning("webhook reconciler pass failed: %s: %s", type(exc).__name__, exc)


@asynccontextmanager
async def lifespan(_app: FastAPI):
    """Run the webhook reconciler beside the app."""
    task = asyncio.create_task(_reconcile_forever())
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


router = APIRouter(lifespan=lifespan)
admin_api = require_staff(Role.admin)
admin_page = require_staff(Role.admin, page=True)


class WebhookCreate(BaseModel):
    """Body of POST /api/v1/webhooks."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=len(EVENTS))


def _create(url: str, events: list[str], staff: Staff):
    view, secret = registry.create_webhook(url, events, staff.user_id)
    audit.record("webhook.create", actor=staff, target=view.id, detail={"url": url, "events": view.events})
    return view, secret


@router.post("/api/v1/webhooks", status_code=201, tags=["webhooks"])
async def create_webhook(body: WebhookCreate, staff: Staff = Depends(admin_api)) -> dict:
    """Register a URL for events; returns its id and signing secret (shown once)."""
    try:
        view, secret = await run_in_threadpool(_create, body.url, body.events, staff)
    except (registry.WebhookInvalid, TargetRefused) as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": view.id, "secret": secret, "url": view.url, "events": view.events}


@router.get("/api/v1/webhooks", tags=["webhooks"])
async def list_webhooks(_staff: Staff = Depends(admin_api)) -> dict:
    """Registered webhooks (secrets are never shown again)."""
    return {"webhooks": [w.public() for w in await run_in_threadpool(registry.list_webhooks)]}


def _delete(webhook_id: str, staff: Staff) -> list[str]:
    cancelled = registry.delete_webhook(webhook_id)
    audit.record("webhook.delete", actor=staff, target=webhook_id, detail={"cancelled": len(cancelled)})
    return cancelled


@router.delete("/api/v1/webhooks/{webhook_id}", tags=["webhooks"])
async def delete_webhook(webhook_id: str, staff: Staff = Depends(admin_api)) -> dict:
    """Delete a webhook: no new events, its pending retries are cancelled."""
    try:
        cancelled = await run_in_threadpool(_delete, webhook_id, staff)
    except registry.WebhookNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return {"id": webhook_id, "deleted": True, "cancelled_deliveries": len(cancelled)}


@router.get("/api/v1/webhooks/{webhook_id}/deliveries", tags=["webhooks"])
async def deliveries(webhook_id: str, _staff: Staff = Depends(admin_api)) -> dict:
    """The delivery log, newest first: each event's status and every try (time, status code or error)."""
    try:
        found = await run_in_threadpool(registry.deliveries, webhook_id)
    except registry.WebhookNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return {"webhook_id": webhook_id, "deliveries": [d.public() for d in found]}


def _redeliver(webhook_id: str, delivery_id: str, staff: Staff) -> str:
    new_id = registry.redeliver(webhook_id, delivery_id)
    audit.record("webhook.redeliver", actor=staff, target=webhook_id, detail={"delivery": delivery_id})
    return new_id


@router.post("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             tags=["webhooks"])
async def redeliver(webhook_id: str, delivery_id: str, staff: Staff = Depends(admin_api)) -> dict:
    """Send a delivery's event again (same webhook-id) as a new delivery."""
    try:
        new_id = await run_in_threadpool(_redeliver, webhook_id, delivery_id, staff)
    except registry.WebhookNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return {"delivery_id": new_id}


# --- pages ----------------------------------------------------------------------------------------


@router.get("/admin/webhooks", include_in_schema=False)
async def webhooks_page(request: Request, staff: Staff = Depends(admin_page)) -> Response:
    """Registered webhooks and the form to add one."""
    hooks = await run_in_threadpool(registry.list_webhooks)
    return page(request, "webhooks.html", {"hooks": hooks, "events": EVENTS, "staff": staff, "problem": None,
                                           "created": None})


@router.post("/admin/webhooks", include_in_schema=False)
async def webhooks_create_form(request: Request, staff: Staff = Depends(admin_page)) -> Response:
    """The add-webhook form; the secret is shown once on the answer page."""
    from urllib.parse import parse_qs

    form = await read_form(request)
    body = (await request.body()).decode("utf-8", "replace")[:65536]
    chosen = [e for e in parse_qs(body).get("events", []) if e in EVENTS]
    problem, created = None, None
    try:
        created = await run_in_threadpool(_create, form.get("url", "").strip(), chosen, staff)
    except (registry.WebhookInvalid, TargetRefused) as exc:
        problem = str(exc)
    hooks = await run_in_threadpool(registry.list_webhooks)
    return page(request, "webhooks.html", {"hooks": hooks, "events": EVENTS, "staff": staff, "problem": problem,
                                           "created": created}, 422 if problem else 201)


@router.get("/admin/webhooks/{webhook_id}", include_in_schema=False)
async def webhook_page(request: Request, webhook_id: str, staff: Staff = Depends(admin_page)) -> Response:
    """One webhook's delivery log with redeliver buttons."""
    try:
        hook = await run_in_threadpool(registry.get_webhook, webhook_id)
        found = await run_in_threadpool(registry.deliveries, webhook_id)
    except registry.WebhookNotFound:
        raise HTTPException(404, "no such webhook") from None
    return page(request, "webhook.html", {"hook": hook, "deliveries": found, "staff": staff,
                                          "done": request.query_params.get("done")})


@router.post("/admin/webhooks/{webhook_id}/delete", include_in_schema=False)
async def webhook_delete_form(webhook_id: str, staff: Staff = Depends(admin_page)) -> Response:
    """Delete from the page."""
    try:
        await run_in_threadpool(_delete, webhook_id, staff)
    except WorksampleError:
        pass  # already deleted: the list shows the truth
    return RedirectResponse("/admin/webhooks", status_code=303)


@router.post("/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", include_in_schema=False)
async def redeliver_form(webhook_id: str, delivery_id: str, staff: Staff = Depends(admin_page)) -> Response:
    """Redeliver from the page."""
    try:
        await run_in_threadpool(_redeliver, webhook_id, delivery_id, staff)
    except registry.WebhookNotFound:
        raise HTTPException(404, "no such delivery of a live webhook") from None
    return RedirectResponse(f"/admin/webhooks/{webhook_id}?done=redelivered", status_code=303)
