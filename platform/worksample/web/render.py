"""The one Jinja2 environment of the web UI and its Content-Security-Policy variants.

Every HTML page goes through `page()`. Templates autoescape, so a candidate's
name, file name or message is text wherever it appears; only HTML the server
built itself (SVG charts, the sanitised brief) is marked safe.

CSP variants:
- `candidate`: the invite and workspace pages (our own script for the countdown);
- `staff`: every staff page: no script at all, styles from our own file only;
- `sandbox`: documents made of candidate output (the executed notebook): an
  opaque origin (`sandbox`), no script, no network, no forms.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

WEB = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(WEB / "templates"))

CSP = {
    "candidate": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                  "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "staff": ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
              "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "sandbox": ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
                "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"),
}


def secure_headers(response: Response, csp: str = "staff") -> Response:
    """Add the CSP variant `csp` and the usual hardening headers to a response."""
    policy = CSP[csp]
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Staff forms post to their own origin; under "no-referrer" browsers would send `Origin: null` instead.
    response.headers["Referrer-Policy"] = "same-origin" if csp == "staff" else "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    if "frame-ancestors 'none'" in policy:
        response.headers["X-Frame-Options"] = "DENY"
    return response


def page(request: Request, name: str, context: dict, status_code: int = 200, csp: str = "staff") -> HTMLResponse:
    """Render template `name` with the security headers of the CSP variant `csp`."""
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    return secure_headers(response, csp)
