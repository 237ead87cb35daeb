"""The platform's one error hierarchy: each error carries one line saying what and what to run.

Two kinds, kept apart (STYLE.md):

- `InfrastructureError`: the platform's own machinery failed (Docker, Redis, an
  image, a pod that did not start, a quota mount, a lost mock, a kernel that
  never answered). The grading queue retries these, with a bounded policy;
  nothing else is retried. Subclass it and the queue knows: no tuple to keep.
- `DomainError` (`NotFound`, `Conflict`, `Invalid`): a request the platform
  understood and refuses. One exception handler (`domain_error_response`)
  turns each into its HTTP status with `{"detail": message}`.

What a candidate's code did is neither: it is data in the report.
"""

from __future__ import annotations


class WorksampleError(Exception):
    """Base for errors shown to users as one line, without a traceback."""

    exit_code = 1


class InfrastructureError(WorksampleError):
    """The platform's machinery failed; the grading queue retries the job (bounded)."""


class DockerUnavailable(InfrastructureError):
    """The Docker engine does not answer."""


class RedisUnavailable(InfrastructureError):
    """Redis does not answer."""


class ImageMissing(InfrastructureError):
    """A sandbox image has not been built."""


class DomainError(WorksampleError):
    """A request refused for a reason the caller can act on; `http_status` says how the API answers."""

    http_status = 400


class NotFound(DomainError):
    """No such thing (attempt, invitation, task, submission)."""

    http_status = 404


class Conflict(DomainError):
    """The thing exists but its state forbids the action (e.g. extending an attempt that has ended)."""

    http_status = 409


class Invalid(DomainError):
    """The input is malformed or out of range; the message names the field."""

    http_status = 422


class UsageError(Invalid):
    """A command or request was given nonsense; exit status 2 like other usage errors, 422 over HTTP."""

    exit_code = 2


async def domain_error_response(_request, exc: DomainError):
    """The one FastAPI exception handler for DomainError: its status and `{"detail": message}`."""
    from starlette.responses import JSONResponse  # errors.py stays importable without the web stack

    return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)
