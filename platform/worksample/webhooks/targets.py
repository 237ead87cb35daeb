"""Where webhooks may be sent (SSRF defence), checked at registration and again at every try.

Rules: http or https only, no credentials in the URL; the host's every address
(after DNS resolution) must be public. Loopback, private, shared (CGNAT) and
unique-local addresses are refused unless WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE is
set; link-local (cloud metadata, 169.254.169.254), multicast, unspecified and
reserved addresses are refused always. Delivery connects to the very address
that was checked (the Host header and TLS name stay the URL's), so a DNS answer
that changes between check and connect (rebinding) cannot redirect a try.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from worksample.errors import WorksampleError

MAX_URL = 2000
# Metadata services outside 169.254.0.0/16 (AWS IPv6, Alibaba): always refused too.
METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(WorksampleError):
    """A webhook URL that may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to and what to call it."""

    url: str
    scheme: str
    host: str  # as written in the URL (Host header, TLS name)
    port: int
    address: str  # the checked IP to connect to


def _unwrap(addr: Address) -> Address:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return addr


def address_refusal(addr: Address, allow_private: bool) -> str | None:
    """Why `addr` may not be called (None if it may)."""
    addr = _unwrap(addr)
    if addr.is_link_local or addr in METADATA:
        return f"{addr} is link-local (cloud metadata); never allowed"
    if addr.is_multicast or addr.is_unspecified:
        return f"{addr} is not a unicast host address"
    if addr.is_global:
        return None
    if addr.is_reserved and not addr.is_loopback:  # ::1 sits in the reserved ::/8
        return f"{addr} is not a unicast host address"
    if allow_private:
        return None
    kind = "loopback" if addr.is_loopback else "private"
    return f"{addr} is a {kind} address; set WORKSAMPLE_WEBHOOK_ALLOW_PRIVATE to allow it"


def parse(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of a webhook URL; raises TargetRefused for anything but plain http(s) URLs."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise TargetRefused(f"url: must be an http(s) URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"url: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"url: scheme {parts.scheme or '(none)'!r} refused; only http and https")
    if not parts.hostname:
        raise TargetRefused("url: has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("url: credentials in the URL are refused; put a token in the path or query")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (an IP literal is itself); raises TargetRefused when it does not resolve."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"url: host {host!r} does not resolve ({exc})") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def check(url: str, allow_private: bool | None = None) -> Target:
    """Check `url` now (resolving its host) and return the Target to connect to; raises TargetRefused."""
    if allow_private is None:
        from worksample.config import get_settings

        allow_private = get_settings().webhook_allow_private
    scheme, host, port = parse(url)
    addresses = resolve(host, port)
    if not addresses:
        raise TargetRefused(f"url: host {host!r} has no address")
    for addr in addresses:  # every answer must pass: a resolver may hand out any of them
        reason = address_refusal(addr, allow_private)
        if reason:
            raise TargetRefused(f"url: {host} resolves to {reason}")
    return Target(url=url, scheme=scheme, host=host, port=port, address=str(_unwrap(addresses[0])))
