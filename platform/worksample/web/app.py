"""Application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from worksample import __version__
from worksample.errors import DomainError, domain_error_response
from worksample.health import health
from worksample.web import deps
from worksample.web.routes import routers


def create_app() -> FastAPI:
    """Build the app. Route handlers stay short and never block the event loop."""
    app = FastAPI(title="worksample", version=__version__)
    deps.install(app)
    app.add_exception_handler(DomainError, domain_error_response)  # NotFound 404, Conflict 409, Invalid 422

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Database, Redis and Docker engine status: 200 when all ok, else 503."""
        status = await run_in_threadpool(health)
        ok = all(v == "ok" for v in status.values())
        return JSONResponse({"ok": ok, **status}, status_code=200 if ok else 503)

    for router in routers():
        app.include_router(router)
    return app
