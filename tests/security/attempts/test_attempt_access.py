"""Attacks on attempts that must fail: other attempts, the Jupyter token, staff routes, guessing, path escapes."""

from __future__ import annotations

import json
import secrets
import socket

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]


def two_attempts(platform, slug):
    admin = platform.admin_token()
    a, cookie_a = platform.start_attempt(platform.invite(admin, slug, "Ann")["token"])
    b, cookie_b = platform.start_attempt(platform.invite(admin, slug, "Bob")["token"])
    return admin, a["attempt_id"], cookie_a, b["attempt_id"], cookie_b


def ws_status(platform, path: str, cookie: str | None, origin: str | None) -> int:
    """Status of a websocket handshake to `path` (101 when accepted)."""
    headers = {}
    if cookie:
        headers["Cookie"] = f"ws_attempt={cookie}"
    if origin:
        headers["Origin"] = origin
    try:
        with connect(f"ws://127.0.0.1:{platform.port}{path}", additional_headers=headers, open_timeout=30):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def raw_get(platform, path: str, cookie: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (no client-side normalisation of `..`)."""
    with socket.create_connection(("127.0.0.1", platform.port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ws_attempt={cookie}\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_attempts_are_isolated_and_the_token_stays_server_side(make_platform, data_dir):
    platform, slug = make_platform()
    admin, a, cookie_a, b, cookie_b = two_attempts(platform, slug)
    with platform.candidate(cookie_a) as client:
        # A's cookie opens A...
        assert client.get(f"/w/{a}/").status_code == 200
        assert client.get(f"/w/{a}/api/contents").status_code == 200
        # ...and nothing of B's: workspace, proxied API, attempt API.
        for path in (f"/w/{b}/", f"/w/{b}/lab", f"/w/{b}/api/contents", f"/w/{b}/api/kernels"):
            assert client.get(path).status_code == 403, path
        assert client.get(f"/api/v1/attempts/{b}").status_code == 403
        assert client.post(f"/api/v1/attempts/{b}/submit").status_code == 403
        assert client.post(f"/w/{b}/api/kernels", json={"name": "python3"}).status_code == 403
        kernel = client.post(f"/w/{a}/api/kernels", json={"name": "python3"}).json()["id"]

        # Candidate cookies reach no staff route.
        for method, path, body in (("POST", "/api/v1/invitations", {"task": slug, "candidate": {"name": "x", "email": "x@y.z"}}),
                                   ("POST", f"/api/v1/attempts/{a}/extend", {"minutes": 30}),
                                   ("GET", f"/api/v1/attempts/{a}/activity", None),
                                   ("POST", "/api/v1/invitations/whatever/revoke", None)):
            resp = client.request(method, path, json=body)
            assert resp.status_code in (401, 403), (path, resp.status_code)

        # The Jupyter token never reaches the browser.
        token = json.loads((data_dir / "attempts" / a / "pod.json").read_text())["token"]
        for path in (f"/w/{a}/", f"/w/{a}/lab", f"/w/{a}/lab/tree/probe.ipynb", f"/w/{a}/api/status",
                     f"/w/{a}/api/contents/probe.ipynb", f"/w/{a}/lab/api/settings", f"/api/v1/attempts/{a}"):
            resp = client.get(path)
            assert resp.status_code == 200, path
            assert token not in resp.text and token not in str(resp.headers), path
    assert not list((data_dir / "pods").rglob("jupyter_server_config.json"))

    channels = f"/w/{b}/api/kernels/{kernel}/channels"
    assert ws_status(platform, channels, cookie_a, platform.url) == 403  # A's cookie on B's websocket
    own = f"/w/{a}/api/kernels/{kernel}/channels"
    assert ws_status(platform, own, cookie_a, platform.url) == 101
    assert ws_status(platform, own, cookie_a, "http://evil.example") == 403  # foreign origin
    assert ws_status(platform, own, cookie_a, None) == 403  # no origin
    assert ws_status(platform, own, None, platform.url) == 403  # no cookie
    forged = a + "." + "0" * 64
    assert ws_status(platform, own, forged, platform.url) == 403
    with platform.candidate(forged) as client:
        assert client.get(f"/w/{a}/").status_code == 403

    for path in (f"/w/{a}/../{b}/", f"/w/{a}/api/contents/../../../etc/passwd", f"/w/{a}/%2e%2e/{b}/lab",
                 f"/w/{a}/api/contents/..%2f..%2fetc%2fpasswd", f"/w/{a}/files/%252e%252e/%252e%252e/etc/passwd",
                 f"/w/{a}/files/..%5c..%5cetc%5cpasswd", f"/w/{a}/api/contents/.%2E/x"):
        status, body = raw_get(platform, path, cookie_a)
        assert status in (400, 404), (path, status)
        assert b"root:" not in body


def test_cookie_flags(make_platform):
    platform, slug = make_platform()
    invitation = platform.invite(platform.admin_token(), slug)
    resp = httpx.post(f"{platform.url}/api/v1/attempts/{invitation['token']}/start", timeout=120)
    header = resp.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/" in header


def test_guessed_tokens_are_rejected_alike_and_rate_limited(make_platform):
    platform, slug = make_platform()
    valid = platform.invite(platform.admin_token(), slug)["token"]
    first = httpx.get(f"{platform.url}/c/{secrets.token_urlsafe(24)}")
    second = httpx.get(f"{platform.url}/c/{secrets.token_urlsafe(24)}")
    assert first.status_code == second.status_code == 404
    assert first.text == second.text  # nothing tells one unknown token from another
    statuses = [httpx.post(f"{platform.url}/api/v1/attempts/{secrets.token_urlsafe(24)}/start").status_code
                for _ in range(25)]
    assert statuses[0] == 404 and statuses[-1] == 429
    # Once blocked, even a valid token waits: guessing costs the guesser, not the lookup.
    assert httpx.get(f"{platform.url}/c/{valid}").status_code == 429
