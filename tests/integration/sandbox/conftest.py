"""Fixtures for sandbox tests against the real Docker engine (security/sandbox loads these too).

Every container these tests make carries `worksample.test=1`; after each test
`no_leftovers` asserts that no container, network, volume or mount of ours is
left, and on failure the pods' logs and inspect output are printed first.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import docker
import pytest

from worksample import sandbox
from worksample.sandbox import engine, layout

# Other engineers' tests also label containers worksample.test=1; ours also carry this run's id.
RUN_ID = uuid.uuid4().hex[:12]
TEST_LABELS = {"worksample.test": "1", "worksample.test_run": RUN_ID}
OURS = [f"{k}={v}" for k, v in TEST_LABELS.items()]
REPO = Path(__file__).resolve().parents[3]
CLI = str(Path(sys.executable).with_name("worksample"))
IDLE = ["sleep", "300"]  # a workload that only waits, for tests that run their own code in it


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    """The real engine; the suite fails (not skips) if it does not answer."""
    engine.reset_client()
    return engine.client()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _dump(client: docker.DockerClient, containers) -> None:
    for container in containers:
        state = container.attrs.get("State", {})
        print(f"--- {container.name} state={state.get('Status')} exit={state.get('ExitCode')} "
              f"oom={state.get('OOMKilled')} error={state.get('Error')!r}")
        print(container.logs(tail=50).decode("utf-8", "replace"))


@pytest.fixture(autouse=True)
def no_leftovers(request, docker_client, data_dir):
    """(j) After every test: no container, network, volume or mount of ours is left."""
    volumes_before = {v.name for v in docker_client.volumes.list()}
    yield
    ours = docker_client.containers.list(all=True, filters={"label": OURS})
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if ours and failed:
        _dump(docker_client, ours)
    for container in ours:
        container.remove(force=True, v=True)
    networks = docker_client.networks.list(filters={"label": OURS})
    volumes_after = {v.name for v in docker_client.volumes.list()}
    # Only this test's platform: other pytest-xdist workers' pods are mounted under /tmp/wspods too.
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
              if str(data_dir) in line or str(layout.short_root()) in line]
    assert not ours, f"containers left behind: {[c.name for c in ours]}"
    assert not networks, f"networks left behind: {[n.name for n in networks]}"
    assert volumes_after <= volumes_before, f"volumes left behind: {volumes_after - volumes_before}"
    assert not mounts, f"mounts left behind: {mounts}"


@pytest.fixture
def pods(request, docker_client, data_dir):
    """A factory `pods(**PodSpec fields)` that labels pods for tests and removes them afterwards."""
    made: list[sandbox.Pod] = []

    def make(**fields) -> sandbox.Pod:
        fields.setdefault("image", "notebook")
        fields["labels"] = {**TEST_LABELS, **fields.get("labels", {})}
        pod = sandbox.create_pod(sandbox.PodSpec(**fields))
        made.append(pod)
        return pod

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for pod in made:
        if failed:
            _dump(docker_client, docker_client.containers.list(all=True, filters={"label": f"worksample.pod={pod.id}"}))
        sandbox.remove(pod)


@pytest.fixture
def test_labels() -> dict[str, str]:
    """Labels every test container carries (the leftover check looks for them)."""
    return dict(TEST_LABELS)


@pytest.fixture
def cli():
    """`cli(*args)`: run `worksample sandbox run --label worksample.test=1 … ARGS` as a real process."""

    def run(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
        labels = [arg for label in OURS for arg in ("--label", label)]
        return subprocess.run([CLI, "sandbox", "run", *labels, *args],
                              capture_output=True, timeout=timeout, env=env)

    return run


@pytest.fixture
def in_pod(docker_client):
    """`in_pod(pod, code)`: run Python `code` in the pod's running workload as the candidate user."""

    def run(pod: sandbox.Pod, code: str, timeout: float = 60) -> sandbox.ExecResult:
        deadline = time.monotonic() + 10
        while docker_client.containers.get(pod.containers["workload"]).status != "running":
            assert time.monotonic() < deadline, "workload did not start"
            time.sleep(0.05)
        return sandbox.exec(pod, ["python3", "-c", code], timeout=timeout)

    return run


@pytest.fixture
def in_idle_pod(pods, in_pod):
    """`in_idle_pod(code)`: run Python `code` as the candidate user in a new pod whose workload only waits
    (`pods(command=IDLE)`, then `in_pod`); the exec result."""

    def run(code: str, timeout: float = 60) -> sandbox.ExecResult:
        return in_pod(pods(command=IDLE), code, timeout=timeout)

    return run
