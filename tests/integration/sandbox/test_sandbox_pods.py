"""Pod shape and hardening as the engine reports it, exit status, kernel over ipc, async calls."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from worksample import sandbox

pytestmark = [pytest.mark.docker]

IDLE = ["sleep", "300"]
MIB = 1024**2


def test_pod_shape_and_hardening_as_inspected(pods, docker_client):
    limits = sandbox.Limits(memory=256 * MIB, cpus=0.5, pids=100)
    pod = pods(command=IDLE, limits=limits, kernel=False, ipc=True)
    mock = docker_client.api.inspect_container(pod.containers["mock"])
    work = docker_client.api.inspect_container(pod.containers["workload"])
    host = work["HostConfig"]
    assert mock["HostConfig"]["NetworkMode"] == "none"
    assert host["NetworkMode"] == f"container:{mock['Id']}"
    assert work["Config"]["User"] == "1000:1000" and mock["Config"]["User"] == "1001:1001"
    for config in (host, mock["HostConfig"]):
        assert config["CapDrop"] == ["ALL"] and not config["CapAdd"]
        assert config["SecurityOpt"] == ["no-new-privileges"]  # no seccomp=unconfined: default profile
        assert config["ReadonlyRootfs"] is True and config["Privileged"] is False
        assert config["Init"] is True
        assert config["Memory"] == config["MemorySwap"] > 0
        assert config["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "2", "max-size": str(MIB // 2)}}
    assert host["Memory"] == 256 * MIB and host["NanoCpus"] == 500_000_000 and host["PidsLimit"] == 100
    assert {u["Name"]: u["Hard"] for u in host["Ulimits"]} == {"nofile": 1024, "fsize": limits.fsize, "core": 0}
    assert host["Tmpfs"]["/tmp"].endswith(f"size={limits.tmp},mode=1777")
    binds = {b.split(":")[1]: b.split(":")[2] for b in host["Binds"]}
    # no other host path, no docker socket; the gate that holds the command until the mock listens is read-only
    assert binds == {"/ipc": "rw", "/workspace": "rw", "/run/worksample": "ro"}
    assert all(str(pod.dir) in b for b in host["Binds"])
    assert not any(m["Type"] == "volume" for m in work["Mounts"] + mock["Mounts"])
    labels = work["Config"]["Labels"]
    assert labels["worksample.pod"] == pod.id and labels["worksample.role"] == "workload"
    assert abs(int(labels["worksample.deadline"]) - time.time() - 3600) < 60
    assert mock["Config"]["Labels"]["worksample.role"] == "mock"
    assert "OPENAI_API_KEY=" + pod.api_key in work["Config"]["Env"]
    assert "OPENAI_BASE_URL=http://127.0.0.1:8080/v1" in work["Config"]["Env"]
    if "/mockllm:" in mock["Config"]["Image"]:  # (not the placeholder used while mockllm is unbuilt)
        assert pod.api_key in mock["Config"]["Cmd"]  # the mock accepts exactly the pod's key


def test_mock_sees_only_its_plan_and_log(pods, docker_client):
    pod = pods(command=IDLE)
    mock = docker_client.api.inspect_container(pod.containers["mock"])
    binds = {b.split(":")[1]: b.split(":")[2] for b in mock["HostConfig"]["Binds"]}
    assert binds == {"/mock/plan": "ro", "/mock/log": "rw", "/etc/resolv.conf": "ro"}
    work = docker_client.api.inspect_container(pod.containers["workload"])
    assert not any("/mock" in b for b in work["HostConfig"]["Binds"])


def test_cli_exit_status_and_streams(cli):
    result = cli("--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert result.returncode == 7
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"


def test_kernel_over_ipc_runs_code_as_the_candidate(pods):
    pod = pods(kernel=True)
    client = sandbox.wait_kernel_ready(pod, timeout=60)
    try:
        outputs = []
        reply = client.execute_interactive(
            "import os; print(os.getuid(), os.getcwd(), os.environ['OPENAI_BASE_URL'])", timeout=30,
            output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok"
    assert "".join(outputs).split() == ["1000", "/workspace", "http://127.0.0.1:8080/v1"]
    assert len(str(pod.ipc_dir / "kernel-5")) < 107


def test_kernel_ready_times_out_with_a_clear_error(pods):
    pod = pods(command=IDLE, kernel=True)  # kernel connection file written, but no kernel runs
    start = time.monotonic()
    with pytest.raises(sandbox.KernelNotReady, match=pod.id):
        sandbox.wait_kernel_ready(pod, timeout=1.5)
    assert time.monotonic() - start < 5


async def test_async_pods_never_block_the_event_loop(docker_client, data_dir, test_labels):
    pods = sandbox.AsyncPods()
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    pod = await pods.create_pod(sandbox.PodSpec(command=["sh", "-c", "echo hi; sleep 1"], image="notebook",
                                                labels=test_labels))
    try:
        assert await pods.wait(pod, timeout=30) == 0
        assert [p.id for p in await pods.list_pods({"worksample.pod": pod.id})] == [pod.id]
    finally:
        await pods.remove(pod)
        stop.set()
        await tick
    assert len(gaps) > 50 and max(gaps) < 0.2, max(gaps)


def test_grader_runs_alone_with_its_own_mounts_and_no_network(pods, docker_client, tmp_path):
    artifacts, results = tmp_path / "artifacts", tmp_path / "results"
    artifacts.mkdir()
    results.mkdir()
    (artifacts / "notebook.ipynb").write_text("{}")
    os.chown(results, 1002, 1002)
    probe = ("import os, json; json.dump({'uid': os.getuid(), 'ifaces': os.listdir('/sys/class/net'),"
             " 'artifacts': os.listdir('/artifacts'), 'key': 'OPENAI_API_KEY' in os.environ,"
             " 'workspace': os.listdir('/workspace') if os.path.isdir('/workspace') else []}, open('/results/out.json', 'w'))")
    grader = sandbox.GraderSpec(command=["python3", "-c", probe], image="notebook", mounts=(
        sandbox.Mount(artifacts, "/artifacts"), sandbox.Mount(results, "/results", read_only=False)))
    pod = pods(command=IDLE, grader=grader)
    assert sandbox.wait(pod, role="grader", timeout=60) == 0
    seen = json.loads((results / "out.json").read_text())
    assert seen == {"uid": 1002, "ifaces": ["lo"], "artifacts": ["notebook.ipynb"], "key": False, "workspace": []}
    inspected = docker_client.api.inspect_container(pod.containers["grader"])
    assert inspected["HostConfig"]["NetworkMode"] == "none"  # not even the pod's namespace
    assert inspected["Config"]["Labels"]["worksample.role"] == "grader"


def test_sigterm_to_sandbox_run_removes_the_pod(cli, docker_client, data_dir, test_labels):
    labels = [arg for key, value in test_labels.items() for arg in ("--label", f"{key}={value}")]
    proc = subprocess.Popen([sys.executable, "-m", "worksample", "sandbox", "run", *labels, "--", "sleep", "300"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not [c for c in docker_client.api.containers(filters={"label": "worksample.role=workload"})
               if c["Labels"].get("worksample.data_dir") == str(data_dir)]:
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else "no pod"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"pod removed" in err
    mine = [c for c in docker_client.containers.list(all=True, filters={"label": "worksample.role=workload"})
            if c.labels.get("worksample.data_dir") == str(data_dir)]
    assert mine == []


def test_command_starts_only_once_the_mock_listens(cli):
    # The very first thing the command does is connect: the gate must have held it until the mock was up.
    result = cli("--", "python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 8080), 1); print('up')")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"up\n"


def test_a_listener_in_the_workload_cannot_pose_as_the_mock(pods, in_pod, docker_client):
    from worksample.sandbox import docker_pods

    pod = pods(command=IDLE)
    mock = docker_client.containers.get(pod.containers["mock"])
    squat = sandbox.exec(pod, ["sh", "-c", "python3 -c \"import socket,time; s=socket.socket(); "
                                           "s.bind(('127.0.0.1', 9999)); s.listen(); time.sleep(60)\" & sleep 1; echo up"])
    assert squat.stdout.strip() == b"up"
    table = Path(f"/proc/{mock.attrs['State']['Pid']}/net/tcp").read_text().splitlines()[1:]
    inodes = {line.split()[1]: int(line.split()[9]) for line in table if line.split()[3] == "0A"}
    docker_pods._check_owner(mock, inodes["0100007F:1F90"])  # the real mock's socket passes
    with pytest.raises(docker_pods.PodStartError, match="something other than the mock"):
        docker_pods._check_owner(mock, inodes["0100007F:270F"])  # 127.0.0.1:9999, held by the workload
