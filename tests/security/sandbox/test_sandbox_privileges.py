"""(b) not root, no setuid, no user namespaces, no mount; (c) read-only root fs;
(h) no Docker socket and no platform secret in the environment or /proc/1/environ."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.docker]

IDLE = ["sleep", "300"]


def test_runs_as_uid_1000_without_capabilities(in_idle_pod):
    out = in_idle_pod("import os\nprint(os.getuid(), os.geteuid(), os.getgid())\n"
                      "print(''.join(l for l in open('/proc/self/status') "
                      "if l.split(':')[0] in ('CapEff','CapPrm','CapBnd','NoNewPrivs','Seccomp')))").stdout.decode()
    assert out.splitlines()[0] == "1000 1000 1000"
    status = dict(line.split(":\t") for line in out.splitlines()[1:] if ":\t" in line)
    assert status["CapEff"] == status["CapPrm"] == status["CapBnd"] == "0000000000000000"
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2"  # Docker's default seccomp filter is on


def test_setuid_unshare_and_mount_are_denied(in_idle_pod):
    out = in_idle_pod("import os, subprocess\n"
                      "try:\n    os.setuid(0); print('setuid ok')\nexcept PermissionError:\n    print('setuid denied')\n"
                      "try:\n    os.unshare(os.CLONE_NEWUSER); print('unshare ok')\nexcept PermissionError:\n"
                      "    print('unshare denied')\n"
                      "os.makedirs('/tmp/m', exist_ok=True)\n"
                      # /usr/bin/mount is setuid root in the image: no-new-privileges must keep it unprivileged
                      "r = subprocess.run(['mount', '-t', 'tmpfs', 'none', '/tmp/m'], capture_output=True)\n"
                      "print('mount', r.returncode)\n"
                      "r = subprocess.run(['unshare', '-r', 'id', '-u'], capture_output=True)\n"
                      "print('unshare-r', r.returncode, r.stdout.decode().strip())\n"
                      "print('setuid-bit', oct(os.stat('/usr/bin/mount').st_mode & 0o4000))").stdout.decode()
    assert "setuid denied" in out
    assert "unshare denied" in out
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert lines["mount"] != "0"
    assert lines["unshare-r"].split()[0] != "0"
    assert lines["setuid-bit"] == "0o4000"  # the binary really is setuid, so the denial above means something


def test_root_filesystem_is_read_only(in_idle_pod):
    out = in_idle_pod("import errno\n"
                      "for path in ('/etc/evil', '/usr/evil', '/evil', '/home/evil', '/tmp/ok', '/workspace/ok'):\n"
                      "    try:\n        open(path, 'w').write('x'); print(path, 'written')\n"
                      "    except OSError as e:\n        print(path, errno.errorcode[e.errno])").stdout.decode()
    result = dict(line.split() for line in out.splitlines())
    for path in ("/etc/evil", "/usr/evil", "/evil"):
        assert result[path] == "EROFS", out
    assert result["/home/evil"] in ("EROFS", "EACCES", "ENOENT"), out
    assert result["/tmp/ok"] == result["/workspace/ok"] == "written"  # the writable places do work


def test_no_docker_socket_and_no_platform_secret(pods, in_pod, monkeypatch):
    monkeypatch.setenv("WORKSAMPLE_SECRET_KEY", "s3cret-platform-key")
    monkeypatch.setenv("DATABASE_URL", "postgresql://admin:hunter2@db/ws")
    pod = pods(command=IDLE)
    out = in_pod(pod, "import os, stat\n"
                      "socks = []\n"
                      "for root, dirs, files in os.walk('/'):\n"
                      "    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ('/proc', '/sys')]\n"
                      "    for name in files:\n"
                      "        try:\n"
                      "            if stat.S_ISSOCK(os.lstat(os.path.join(root, name)).st_mode): socks.append(name)\n"
                      "        except OSError: pass\n"
                      "print('sockets', socks)\n"
                      "print('env', sorted(os.environ))\n"
                      "print('pid1', open('/proc/1/environ', 'rb').read().replace(b'\\0', b' ').decode())").stdout.decode()
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out.splitlines()}
    assert lines["sockets"] == "[]"
    assert "docker.sock" not in out
    for secret in ("WORKSAMPLE_SECRET_KEY", "DATABASE_URL", "s3cret", "hunter2"):
        assert secret not in lines["env"] and secret not in lines["pid1"], out
    assert "OPENAI_API_KEY" in lines["env"]  # the reader works: the pod's own key is there
    assert pod.api_key in lines["pid1"]
