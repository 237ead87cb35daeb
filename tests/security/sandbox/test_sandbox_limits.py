"""(d) fork bomb, (e) memory, (f) disk quota, (g) time limit, (i) output flood:
a candidate can exhaust only its own sandbox; the pod's mock, the host and the
platform stay up."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import docker.errors
import pytest

from worksample import sandbox

pytestmark = [pytest.mark.docker, pytest.mark.slow]

IDLE = ["sleep", "300"]
MIB = 1024**2

FORK_BOMB = """
import os, time
reported = False
while True:
    try:
        if os.fork() == 0:
            reported = True  # only the first process reports
    except OSError as exc:
        if not reported:
            print('fork failed', exc.errno, flush=True)
            reported = True
"""


class HostProbe:
    """Measures, from the host, how long a trivial process and a Docker ping take while a test runs."""

    def __init__(self, docker_client, watch=None) -> None:
        self.client = docker_client
        self.watch = watch  # optional callable sampled each round
        self.latencies: list[float] = []
        self.samples: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            start = time.monotonic()
            subprocess.run(["true"], check=True)
            self.client.ping()
            self.latencies.append(time.monotonic() - start)
            if self.watch is not None:
                self.samples.append(self.watch())

    def __enter__(self) -> "HostProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def cgroup_value(controller: str, container_id: str, name: str) -> int | None:
    """A cgroup v1 counter of a container as the host sees it (None once the container is gone)."""
    try:
        return int(Path(f"/sys/fs/cgroup/{controller}/docker/{container_id}/{name}").read_text())
    except (OSError, ValueError):
        return None


def test_fork_bomb_stops_at_the_pids_limit_and_host_stays_responsive(pods, docker_client):
    pod = pods(command=["python3", "-c", FORK_BOMB], limits=sandbox.Limits(pids=64))
    workload_id = docker_client.containers.get(pod.containers["workload"]).id
    with HostProbe(docker_client, watch=lambda: cgroup_value("pids", workload_id, "pids.current")) as probe:
        time.sleep(4)
    pids_seen = [n for n in probe.samples if n is not None]
    logs = docker_client.containers.get(pod.containers["workload"]).logs().decode()
    mock_status = docker_client.containers.get(pod.containers["mock"]).status
    sandbox.kill(pod)
    assert "fork failed 11" in logs  # EAGAIN: the pids cgroup said no
    assert pids_seen and max(pids_seen) <= 64, pids_seen
    assert max(pids_seen) >= 48, pids_seen  # it really was a bomb pressing on the limit
    assert len(probe.latencies) >= 5 and max(probe.latencies) < 2.5, probe.latencies
    assert mock_status == "running"


def test_memory_hog_kills_only_the_offender(pods, in_pod, docker_client):
    pod = pods(command=IDLE, limits=sandbox.Limits(memory=128 * MIB))
    with HostProbe(docker_client) as probe:
        hog = in_pod(pod, "b = []\nwhile True:\n    b.append(b'x' * (8 << 20))")
    assert hog.exit_code == 137 or b"MemoryError" in hog.stderr, hog
    after = in_pod(pod, "import os, urllib.request, urllib.error\n"
                        "try:\n    print(urllib.request.urlopen(os.environ['OPENAI_BASE_URL'] + '/models', timeout=10).status)\n"
                        "except urllib.error.HTTPError as e:\n    print(e.code)")
    assert after.exit_code == 0 and after.stdout.strip().isdigit(), after  # workload alive, mock answering
    for role in ("mock", "workload"):
        assert docker_client.containers.get(pod.containers[role]).status == "running"
    assert max(probe.latencies, default=0) < 2.5


FILL = """
import errno, sys
path, written = sys.argv[1], 0
try:
    with open(path, 'wb') as fh:
        while written < 512 << 20:
            fh.write(b'\\0' * (1 << 20)); fh.flush(); written += 1 << 20
    print('no-limit', written)
except OSError as exc:
    print(errno.errorcode[exc.errno], written)
"""


def test_filling_workspace_and_tmp_stops_at_quota(pods, docker_client, data_dir):
    pod = pods(command=IDLE, limits=sandbox.Limits(disk=32 * MIB, tmp=16 * MIB))
    free_before = os.statvfs(data_dir).f_bavail * os.statvfs(data_dir).f_frsize
    results = {}
    for path in ("/workspace/big", "/tmp/big"):
        out = sandbox.exec(pod, ["python3", "-c", FILL, path], timeout=60).stdout.decode().split()
        results[path] = (out[0], int(out[1]))
    free_after = os.statvfs(data_dir).f_bavail * os.statvfs(data_dir).f_frsize
    image = pod.dir / "workspace.img"
    assert results["/workspace/big"][0] in ("ENOSPC", "EFBIG") and results["/workspace/big"][1] <= 32 * MIB, results
    assert results["/tmp/big"][0] in ("ENOSPC", "EFBIG") and results["/tmp/big"][1] <= 16 * MIB, results
    assert os.stat(image).st_blocks * 512 <= 34 * MIB  # the host only ever holds the quota
    assert free_before - free_after < 200 * MIB  # 512 MiB were attempted


@pytest.mark.parametrize("command", [["python3", "-c", "while True: pass"], ["sleep", "infinity"]],
                         ids=["busy-loop", "endless-sleep"])
def test_time_limit_kills_with_124(cli, command):
    start = time.monotonic()
    result = cli("--image", "notebook", "--timeout", "2", "--", *command)
    elapsed = time.monotonic() - start
    assert result.returncode == 124, result
    assert b"time limit of 2s reached" in result.stderr
    assert elapsed < 10


FLOOD = """
import sys
line = b'x' * 65535 + b'\\n'
for _ in range(16384):
    sys.stdout.buffer.write(line)
print('done', file=sys.stderr)
"""


def test_gigabyte_stdout_flood_is_capped(cli, docker_client, data_dir):
    def log_size() -> int:
        """Size of the engine's log file of our flooding workload (0 before it exists or once gone)."""
        for summary in docker_client.api.containers(filters={"label": "worksample.role=workload"}):
            if summary["Labels"].get("worksample.data_dir") == str(data_dir):  # the pod dir may be in /tmp/wspods
                try:
                    return os.path.getsize(docker_client.api.inspect_container(summary["Id"])["LogPath"])
                except (docker.errors.NotFound, OSError):
                    return 0
        return 0

    with HostProbe(docker_client, watch=log_size) as probe:
        result = cli("--image", "notebook", "--timeout", "90", "--", "python3", "-c", FLOOD, timeout=150)
    assert result.returncode in (0, 124), result.stderr
    assert len(result.stdout) <= MIB
    assert b"output capped at 1 MiB" in result.stderr
    assert 0 < max(probe.samples, default=0) <= 2 * MIB, probe.samples  # the engine's log file stayed bounded
    assert max(probe.latencies) < 2.5, probe.latencies
    assert docker_client.ping()
