"""The reaper removes pods past their deadline and half-pods, by label alone (as after a restart)."""

from __future__ import annotations

import time

import pytest

from worksample import sandbox
from worksample.sandbox.docker_pods import DockerPods

pytestmark = [pytest.mark.docker]

IDLE = ["sleep", "300"]


def _containers(docker_client, pod):
    return docker_client.containers.list(all=True, filters={"label": f"worksample.pod={pod.id}"})


def test_reaper_removes_pods_past_their_deadline_only(pods, docker_client):
    expiring = pods(command=IDLE, timeout=2)
    living = pods(command=IDLE, timeout=600)
    # A fresh backend and client: nothing in memory but what the labels say, as after a restart.
    sandbox.engine.reset_client()
    reaped = sandbox.reap(now=time.time() + 10, backend=DockerPods())
    assert [(r.pod_id, r.reason) for r in reaped] == [(expiring.id, "deadline")]
    assert _containers(docker_client, expiring) == []
    assert not expiring.dir.exists() and not expiring.workspace.exists()
    assert len(_containers(docker_client, living)) == 2 and living.dir.exists()


def test_reaper_removes_a_workload_whose_mock_is_gone(pods, docker_client):
    pod = pods(command=IDLE)
    docker_client.containers.get(pod.containers["mock"]).remove(force=True)
    reaped = sandbox.reap()
    assert [(r.pod_id, r.reason) for r in reaped] == [(pod.id, "orphan")]
    assert _containers(docker_client, pod) == []


def test_reaper_leaves_other_platforms_pods_alone(pods, docker_client, monkeypatch, tmp_path):
    pod = pods(command=IDLE, timeout=2)
    with monkeypatch.context() as patch:
        patch.setenv("WORKSAMPLE_DATA_DIR", str(tmp_path / "other-platform"))
        sandbox.engine.get_settings.cache_clear()
        assert sandbox.reap(now=time.time() + 10) == []
    sandbox.engine.get_settings.cache_clear()
    assert len(_containers(docker_client, pod)) == 2
    assert [r.pod_id for r in sandbox.reap(now=time.time() + 10)] == [pod.id]  # its own platform does reap it


def test_remove_twice_is_fine(pods):
    pod = pods(command=IDLE)
    sandbox.remove(pod)
    sandbox.remove(pod)  # 404s are expected, not errors
    sandbox.remove(pod.id)


def test_extended_deadline_is_honoured_by_the_reaper(pods):
    pod = pods(command=IDLE, timeout=2)
    sandbox.default_backend().extend_deadline(pod, int(time.time()) + 600)
    assert sandbox.reap(now=time.time() + 10) == []
    assert sandbox.reap(now=time.time() + 700)[0].pod_id == pod.id


def test_find_pod_rebuilds_the_handle_after_a_restart(pods):
    pod = pods(kernel=True)
    sandbox.engine.reset_client()
    found = DockerPods().find_pod(pod.id)
    assert found is not None
    assert (found.id, found.dir, found.containers, found.api_key, found.workspace, found.ipc_dir, found.connection) == (
        pod.id, pod.dir, pod.containers, pod.api_key, pod.workspace, pod.ipc_dir, pod.connection)
    client = sandbox.wait_kernel_ready(found, timeout=60)  # the rebuilt handle drives the same kernel
    client.stop_channels()
    assert DockerPods().find_pod("pnothere000") is None


def test_reaper_sweeps_pod_dirs_without_containers(data_dir, pods):
    from worksample.sandbox import layout

    live = pods(command=IDLE)
    stale = data_dir / "pods" / "pdeadbeef00"
    (stale / "mock" / "log").mkdir(parents=True)
    # Pods of a deep data dir live in this platform's own short root: swept too.
    stale_short = layout.short_root() / "pdeadbeef01"
    (stale_short / "mock").mkdir(parents=True)
    # Another platform's short root on the same machine is not ours to sweep.
    others = layout.SHORT_ROOT / "0therp1a" / "pdeadbeef02"
    others.mkdir(parents=True)
    try:
        reaped = sandbox.reap(now=time.time() + 300)  # past the create grace, before the live pod's deadline
        assert sorted((r.pod_id, r.reason) for r in reaped) == [("pdeadbeef00", "no containers"),
                                                                ("pdeadbeef01", "no containers")]
        assert not stale.exists() and not stale_short.exists() and live.dir.exists()
        assert others.is_dir()
    finally:
        others.rmdir()
        others.parent.rmdir()
