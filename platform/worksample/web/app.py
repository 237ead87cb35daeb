"""Application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from worksample import __version__
from worksample.errors import DomainError, domain_error_response
from worksample.health import health
from worksample.web import deps
from worksample.web.routes import routers


API_DOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>worksample API</title>
<link rel="stylesheet" href="/static/ws/style.css"></head><body><main class="narrow"><h1>worksample API</h1>
<p>The JSON API is described by its OpenAPI document: <a href="/openapi.json">/openapi.json</a>.
Load it into any OpenAPI viewer or client generator; this platform serves no page that needs the internet.</p>
<p>Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> (<code>worksample token create</code>)
or a staff session.</p></main></body></html>"""


def create_app() -> FastAPI:
    """Build the app. Route handlers stay short and never block the event loop."""
    # No Swagger UI or ReDoc: both load their assets from a CDN, a blank page offline (issue 13).
    app = FastAPI(title="worksample", version=__version__, docs_url=None, redoc_url=None)
    deps.install(app)
    app.add_exception_handler(DomainError, domain_error_response)  # NotFound 404, Conflict 409, Invalid 422

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Database, Redis and Docker engine status: 200 when all ok, else 503."""
        status = await run_in_threadpool(health)
        ok = all(v == "ok" for v in status.values())
        return JSONResponse({"ok": ok, **status}, status_code=200 if ok else 503)

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        """Where the API is described: the OpenAPI document, for any OpenAPI viewer or client generator."""
        return HTMLResponse(API_DOCS)

    for router in routers():
        app.include_router(router)
    return app
