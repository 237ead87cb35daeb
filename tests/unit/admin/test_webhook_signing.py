"""Standard Webhooks signatures and the SSRF address rules (no services)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress

import pytest

from worksample.webhooks import event_body
from worksample.webhooks.signing import SignatureError, headers, new_secret, sign, verify
from worksample.webhooks.targets import TargetRefused, address_refusal, check, parse

pytestmark = pytest.mark.timeout(30)


def test_signature_matches_an_independent_computation():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    body = event_body("submission.graded", {"submission_id": "s1", "score": 81.5})
    got = sign(secret, "msg_abc", 1674087231, body)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    want = base64.b64encode(hmac.new(key, f"msg_abc.1674087231.{body}".encode(), hashlib.sha256).digest()).decode()
    assert got == "v1," + want


def test_verify_accepts_good_and_refuses_tampered_requests():
    secret = new_secret()
    body = event_body("attempt.started", {"attempt_id": "a1"}).encode()
    hdrs = headers(secret, "msg_1", body, timestamp=1_700_000_000)
    assert verify(secret, {k.title(): v for k, v in hdrs.items()}, body, now=1_700_000_010) == "msg_1"
    with pytest.raises(SignatureError, match="webhook-signature"):
        verify(secret, hdrs, body + b" ", now=1_700_000_010)
    with pytest.raises(SignatureError, match="webhook-signature"):
        verify(new_secret(), hdrs, body, now=1_700_000_010)
    with pytest.raises(SignatureError, match="webhook-timestamp"):
        verify(secret, hdrs, body, now=1_700_000_000 + 3600)
    rotated = {**hdrs, "webhook-signature": "v1,AAAA " + hdrs["webhook-signature"]}
    assert verify(secret, rotated, body, now=1_700_000_000) == "msg_1"


@pytest.mark.parametrize("addr, private_ok, refused", [
    ("8.8.8.8", False, None),
    ("127.0.0.1", False, "loopback"),
    ("127.0.0.1", True, None),
    ("10.1.2.3", False, "private"),
    ("192.168.0.1", True, None),
    ("::1", False, "loopback"),
    ("::ffff:127.0.0.1", False, "loopback"),
    ("169.254.169.254", True, "link-local"),
    ("fe80::1", True, "link-local"),
    ("fd00:ec2::254", True, "link-local"),
    ("0.0.0.0", True, "not a unicast"),
    ("224.0.0.1", True, "not a unicast"),
])
def test_address_rules(addr, private_ok, refused):
    reason = address_refusal(ipaddress.ip_address(addr), private_ok)
    assert (reason is None) if refused is None else (refused in reason)


@pytest.mark.parametrize("url, why", [
    ("ftp://example.com/x", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme"),
    ("http://user:pw@example.com/", "credentials"),
    ("http:///nohost", "no host"),
    ("http://example.com:99999/", "url"),
])
def test_urls_refused_before_any_lookup(url, why):
    with pytest.raises(TargetRefused, match=why):
        parse(url)


def test_check_resolves_names_and_refuses_private_answers():
    with pytest.raises(TargetRefused, match="loopback"):
        check("http://localhost:9/hook", allow_private=False)
    with pytest.raises(TargetRefused, match="link-local"):
        check("http://169.254.169.254/latest/meta-data/", allow_private=True)
    with pytest.raises(TargetRefused, match="link-local"):
        check("http://[::ffff:169.254.169.254]/", allow_private=True)
    target = check("http://localhost:9/hook?x=1", allow_private=True)
    assert target.address in ("127.0.0.1", "::1") and target.host == "localhost" and target.port == 9
