"""The pod's /ipc dir has a quota like the workspace (issue 11, item 6).

/ipc is the one host dir besides the workspace that the sandbox can write to
(JupyterLab's socket and config in attempts, the kernel's sockets at grading).
Before the fix it was a plain host directory, bounded only per file: 1.5 GiB
were written during one grading. Grading pods (`kernel=True`) and attempt pods
(`ipc=True`) get it from the same place, so both are attacked here.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from worksample import sandbox
from worksample.sandbox import layout

# (getattr: the same test runs against the code before the quota existed, to see it fail)
IPC_QUOTA = getattr(layout, "IPC_QUOTA", 16 * 1024**2)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

MIB = 1024**2
ATTEMPTED = 256 * MIB
# Many files, each under the per-file limit (fsize): the attack that got through.
FILL = f"""
import errno, os
written = 0
try:
    for n in range(10_000):
        with open(f'/ipc/fill-{{n}}', 'wb') as fh:
            for _ in range(8):
                fh.write(b'x' * (1 << 20)); fh.flush(); written += 1 << 20
        if written >= {ATTEMPTED}:
            break
    print('no-limit', written)
except OSError as exc:
    print(errno.errorcode[exc.errno], written)
"""
MANY = """
import errno, os
made = 0
try:
    for n in range(100_000):
        os.mkdir(f'/ipc/d{n}'); made += 1
    print('no-limit', made)
except OSError as exc:
    print(errno.errorcode[exc.errno], made)
"""


def _host_bytes(path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", ["grading", "attempt"])
def test_filling_ipc_stops_at_its_quota(pods, kind):
    shape = {"kernel": True} if kind == "grading" else {"command": ["sleep", "300"], "ipc": True}
    pod = pods(limits=sandbox.Limits(disk=64 * MIB, tmp=16 * MIB), **shape)
    if kind == "grading":  # the kernel is up: its sockets are in /ipc and must survive the flood
        client = sandbox.wait_kernel_ready(pod, timeout=60)
        client.stop_channels()
    result = sandbox.exec(pod, ["python3", "-c", FILL], timeout=120)
    status, written = result.stdout.decode().split()
    assert status == "ENOSPC" and int(written) <= IPC_QUOTA, (status, written, result.stderr[-500:])
    assert _host_bytes(pod.ipc_dir) <= IPC_QUOTA + MIB
    result = sandbox.exec(pod, ["python3", "-c", MANY], timeout=120)
    status, made = result.stdout.decode().split()
    assert status == "ENOSPC" and int(made) < 10_000, (status, made)
    if kind == "grading":  # the host still reaches the kernel through the full dir
        client = sandbox.wait_kernel_ready(pod, timeout=30)
        client.stop_channels()
    ipc = pod.ipc_dir
    sandbox.remove(pod)
    assert not os.path.ismount(ipc) and not ipc.exists()
