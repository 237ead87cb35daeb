"""(a) No egress: the pod's network namespace has only loopback, no route, no DNS,
and the Docker bridge address on this machine is unreachable from inside.

Every address aimed at is on this machine: loopback inside the pod, and the
docker0 bridge address of this host (with a listener we own).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading

import pytest

pytestmark = [pytest.mark.docker]


def bridge_address() -> str:
    """docker0's IPv4 address on this host (e.g. 172.17.0.1)."""
    out = subprocess.run(["ip", "-j", "-4", "addr", "show", "docker0"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]["addr_info"][0]["local"]


@pytest.fixture
def bridge_listener():
    """A TCP listener of ours on the bridge address; yields (host, port)."""
    server = socket.create_server((bridge_address(), 0))
    accepted = []

    def accept() -> None:
        server.settimeout(30)
        try:
            conn, _ = server.accept()
            accepted.append(conn)
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[:2]
    server.close()
    thread.join(timeout=5)


def test_namespace_has_only_loopback_and_no_route(in_idle_pod):
    result = in_idle_pod("import os, json\n"
                         "routes = open('/proc/net/route').read().splitlines()[1:]\n"
                         "v6 = [l for l in open('/proc/net/ipv6_route').read().splitlines() if not l.endswith('lo')]\n"
                         "print(json.dumps({'ifaces': sorted(os.listdir('/sys/class/net')), 'routes': routes, 'v6': v6}))")
    seen = json.loads(result.stdout)
    assert seen["ifaces"] == ["lo"]
    assert seen["routes"] == []  # no default gateway, so no metadata IP or anything else off the pod
    assert seen["v6"] == []


def test_dns_lookup_fails(in_idle_pod):
    result = in_idle_pod("import socket\n"
                         "try:\n    socket.getaddrinfo('pypi.org', 443)\n    print('resolved')\n"
                         "except socket.gaierror as e:\n    print('gaierror', e.errno)\n"
                         "print(repr(open('/etc/resolv.conf').read()))")
    assert result.stdout.decode().splitlines()[0].startswith("gaierror"), result.stdout
    assert "nameserver" not in result.stdout.decode()


def test_docker_bridge_address_unreachable(in_idle_pod, bridge_listener):
    host, port = bridge_listener
    with socket.create_connection((host, port), timeout=5):  # the target is live from the host itself
        pass
    result = in_idle_pod("import socket\n"
                         f"try:\n    socket.create_connection(({host!r}, {port}), timeout=5)\n    print('connected')\n"
                         "except OSError as e:\n    print('refused', e.errno)")
    out = result.stdout.decode()
    assert out.startswith("refused"), out
    assert "101" in out  # ENETUNREACH: there is no route at all, not merely a firewall


def test_workload_reaches_the_mock_and_nothing_else_on_loopback(in_idle_pod):
    result = in_idle_pod("import os, socket, urllib.request, urllib.error\n"
                         "req = urllib.request.Request(os.environ['OPENAI_BASE_URL'] + '/models',"
                         " headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']})\n"
                         "try:\n    print('mock', urllib.request.urlopen(req, timeout=10).status)\n"
                         "except urllib.error.HTTPError as e:\n    print('mock', e.code)\n"
                         "for port in (22, 80, 2375, 6379, 8000):\n"
                         "    try:\n        socket.create_connection(('127.0.0.1', port), timeout=2); print('open', port)\n"
                         "    except OSError:\n        pass")
    lines = result.stdout.decode().split()
    assert lines[:2] == ["mock", "200"], result.stdout  # the mock answered the pod's own key
    assert "open" not in lines, result.stdout
