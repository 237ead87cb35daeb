"""Route modules. Each exposes `router` (a FastAPI APIRouter); `ROUTERS` lists them in mount order."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Add a module name here when you add a routes module.
ROUTERS: tuple[str, ...] = ("invitations", "attempts", "pages", "workspace", "submissions", "reports", "login",
                           "reviews", "review_pages")


# --- H6 admin console (DESIGN §12): invitations page and bulk API, catalog/operations/audit/metrics, webhooks
ROUTERS += ("admin_invitations", "admin_console", "webhooks")
# --- end H6


def routers() -> list[APIRouter]:
    """Import every route module and return its router."""
    return [importlib.import_module(f"worksample.web.routes.{name}").router for name in ROUTERS]
