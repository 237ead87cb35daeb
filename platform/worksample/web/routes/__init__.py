"""Route modules. Each exposes `router` (a FastAPI APIRouter); `ROUTERS` lists them in mount order."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Add a module name here when you add a routes module.
ROUTERS: tuple[str, ...] = ("invitations", "attempts", "pages", "workspace", "submissions", "reports", "login")


def routers() -> list[APIRouter]:
    """Import every route module and return its router."""
    return [importlib.import_module(f"worksample.web.routes.{name}").router for name in ROUTERS]
