"""The FastAPI app: API and server-rendered pages."""

from worksample.web.app import create_app  # noqa: F401
