"""The Docker backend: a pod is a mock container plus a workload joined to its network namespace.

`create_pod` reads as its steps: host dirs, images, containers, mock listening,
workload started. Anything that fails on the way removes what was made, so a
failed create leaves no container, mount or directory behind.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable

import docker.errors

from worksample.config import get_settings
from worksample.errors import DockerUnavailable, InfrastructureError, UsageError, WorksampleError
from worksample.sandbox import engine, files, hardening, layout, streams
from worksample.sandbox.backend import ExecResult, OutputSink, Pod, PodBackend, PodInfo
from worksample.sandbox.spec import (
    LABEL_DATA_DIR,
    LABEL_DEADLINE,
    LABEL_POD,
    LABEL_POD_DIR,
    LABEL_ROLE,
    MOCK_PORT,
    SERVICE_PORT,
    Mount,
    PodSpec,
    new_pod_id,
)

MOCK_READY_TIMEOUT = 30.0
GATE_DIR = "/run/worksample"
# Holds a workload's command until the host creates the gate file (dash loop: no python start-up cost).
GATE = ["/bin/sh", "-c", f'while [ ! -e {GATE_DIR}/mock-ready ]; do sleep 0.01; done; exec "$@"', "gate"]


def _listen_entry(port: int) -> str:
    """127.0.0.1:<port> in /proc/net/tcp notation (matched with state 0A = LISTEN)."""
    return f"0100007F:{port:04X}"


class PodStartError(InfrastructureError):
    """A pod's container did not come up; the message carries the container's last log lines."""


def container_name(pod_id: str, role: str) -> str:
    """Containers are named by pod and role, so every call can address them without stored ids."""
    return f"ws-{pod_id}-{role}"


def ignore_gone(exc: docker.errors.APIError) -> None:
    """Accept 404 (already gone) and 409 (already stopped / being removed); re-raise anything else."""
    if exc.status_code not in (404, 409):
        raise exc


class DockerPods(PodBackend):
    """Pods on the local (or DOCKER_HOST) Docker engine."""

    @engine.translate_errors
    def create_pod(self, spec: PodSpec) -> Pod:
        """Create and start a hardened pod; see PodBackend.create_pod."""
        engine.client()  # fail on a dead engine before making any host state
        pod_id = new_pod_id()
        pod_dir = layout.make_pod_dir(pod_id)
        pod = Pod(id=pod_id, dir=pod_dir, containers={}, api_key=spec.mock.api_key,
                  deadline=spec.deadline(), workspace=spec.workspace or pod_dir / "workspace",
                  ephemeral_workspace=spec.workspace is None, labels=dict(spec.labels))
        try:
            ports = self._create_containers(pod, spec)
            self._start(pod, ports)
        except BaseException:
            self.remove(pod)
            raise
        return pod

    def _create_containers(self, pod: Pod, spec: PodSpec) -> tuple[int, ...]:
        """1. host state, 2. images, 3. create mock, workload and grader (none started yet).

        Returns the ports the mock must listen on before the workload's code may run.
        """
        mounts, command = self._workload_mounts(pod, spec)
        mock_image, mock_command, mock_mounts = _mock_image_and_command(pod, spec)
        workload_image = engine.resolve_image(spec.image)
        resolv = str(layout.empty_resolv_conf(pod.dir))
        docker = engine.client()
        common = {"pod_id": pod.id, "deadline": pod.deadline, "pod_dir": str(pod.dir), "extra": spec.labels}
        names = {role: container_name(pod.id, role) for role in ("mock", "workload", "grader")}
        docker.containers.create(**hardening.mock_kwargs(
            image=mock_image, command=mock_command, name=names["mock"], mounts=mock_mounts,
            labels=hardening.labels_for(role="mock", **common), resolv_conf=resolv))
        pod.containers["mock"] = names["mock"]
        docker.containers.create(**hardening.workload_kwargs(
            image=workload_image, command=command, name=names["workload"], mock_name=names["mock"],
            labels=hardening.labels_for(role="workload", **common), limits=spec.limits, mounts=mounts,
            env=spec.env, api_key=spec.mock.api_key))
        pod.containers["workload"] = names["workload"]
        if spec.grader is not None:
            docker.containers.create(**hardening.grader_kwargs(
                image=engine.resolve_image(spec.grader.image), command=spec.grader.command, name=names["grader"],
                labels=hardening.labels_for(role="grader", **common), mounts=list(spec.grader.mounts),
                env=spec.grader.env, resolv_conf=resolv))
            pod.containers["grader"] = names["grader"]
        # A task service must listen too before the gate opens, or the candidate's code could take 8081 first.
        serves = spec.mock.service is not None and "--service" in mock_command
        return (MOCK_PORT, SERVICE_PORT) if serves else (MOCK_PORT,)

    def _workload_mounts(self, pod: Pod, spec: PodSpec) -> tuple[list[Mount], list[str]]:
        """The workload sees only its workspace, its data (read-only) and its ipc dir."""
        if spec.workspace is None:
            layout.ephemeral_workspace(pod.dir, spec.limits.disk)
        elif not os.path.ismount(spec.workspace):  # every workload gets a disk quota
            raise UsageError(f"workspace: {spec.workspace} is not a mounted quota image (see open_workspace)")
        files.prepare_workspace(pod.workspace, with_data=spec.data is not None)
        mounts = [Mount(pod.workspace, "/workspace", read_only=False)]
        if spec.data is not None:
            mounts.append(Mount(spec.data.resolve(), "/workspace/data"))
        if spec.kernel or spec.ipc:
            pod.ipc_dir = layout.make_ipc_dir(pod.dir)
            mounts.append(Mount(pod.ipc_dir, "/ipc", read_only=False))
        command = list(spec.command or ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
        if spec.kernel:
            pod.connection = layout.write_kernel_connection(pod.ipc_dir)
            # As in a kernelspec's argv: `{connection_file}` names the kernel's connection file.
            command = [arg.replace("{connection_file}", layout.kernel_file_in_pod(pod.ipc_dir)) for arg in command]
        if spec.command:
            # The container boots while the mock does; the gate holds the command until the mock listens.
            mounts.append(Mount(layout.make_gate_dir(pod.dir), GATE_DIR))
            return mounts, [*GATE, *command]
        return mounts, command

    def _start(self, pod: Pod, ports: tuple[int, ...] = (MOCK_PORT,)) -> None:
        """4. start the mock, 5. start the workload (and grader), 6. wait until the mock listens, 7. open the gate.

        The workload boots while the mock does (a container start costs ~0.15 s
        each, the mock's imports more), but nothing of the candidate's runs before
        the mock listens: a given command waits at the gate, and our own kernel
        runs no code until a client sends it, which is after we return.
        """
        docker = engine.client()
        mock = docker.containers.get(pod.containers["mock"])
        mock.start()
        for role in ("workload", "grader"):
            if role in pod.containers:
                docker.api.start(pod.containers[role])
        for port in ports:
            self._wait_mock_listening(mock, port)
        layout.open_gate(pod.dir)

    def _wait_mock_listening(self, mock, port: int = MOCK_PORT) -> None:
        """Poll the mock's /proc/<pid>/net/tcp (host side, no exec) until 127.0.0.1:<port> listens.

        The listening socket must belong to a process of the mock container, so a
        workload that grabbed the port first cannot pose as the mock (or its task service).
        """
        deadline = time.monotonic() + MOCK_READY_TIMEOUT
        delay = 0.005
        mock.reload()
        while time.monotonic() < deadline:
            state = mock.attrs["State"]
            if not state.get("Running"):
                raise PodStartError(f"mock LLM container exited ({state.get('ExitCode')}): {_tail(mock)}")
            inode = _listening_inode(state.get("Pid", 0), mock, port)
            if inode is not None:
                _check_owner(mock, inode, port)
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)
            if inode is None and not os.path.exists(f"/proc/{state.get('Pid', 0)}"):
                mock.reload()  # it may have died: refresh the state
        raise PodStartError(f"mock LLM did not listen on 127.0.0.1:{port} within {MOCK_READY_TIMEOUT:.0f}s: {_tail(mock)}")

    @engine.translate_errors
    def exec(self, pod: Pod, cmd: list[str], role: str = "workload", timeout: float | None = None,
             cap: int = 1024**2) -> ExecResult:
        """See PodBackend.exec. A `timeout` wraps the command in coreutils `timeout` (exit 124)."""
        if timeout is not None:
            cmd = ["timeout", "-k", "2", str(max(1, int(timeout))), *cmd]
        return streams.exec_capped(engine.client().api, pod.containers[role], cmd, cap)

    @engine.translate_errors
    def wait(self, pod: Pod, role: str = "workload", timeout: float | None = None) -> int | None:
        """See PodBackend.wait."""
        import requests.exceptions

        try:
            result = engine.client().api.wait(pod.containers[role], timeout=timeout)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
            if timeout is not None and "timed out" in str(exc).lower():
                # A short timeout (the runner's probe uses 10 ms) also expires when a busy engine is merely
                # slow to answer for a container that has exited: ask for its state before saying "running".
                state = engine.client().api.inspect_container(pod.containers[role]).get("State") or {}
                return None if state.get("Status") in ("created", "running", "restarting", "paused") \
                    else int(state.get("ExitCode", -1))
            raise
        return int(result.get("StatusCode", -1))

    @engine.translate_errors
    def stream_output(self, pod: Pod, on_stdout: OutputSink, on_stderr: OutputSink, cap: int) -> bool:
        """See PodBackend.stream_output."""
        return streams.follow_capped(engine.client().api, pod.containers["workload"], on_stdout, on_stderr, cap)

    def copy_in(self, pod: Pod, source: Path, dest: str = "/workspace") -> int:
        """See PodBackend.copy_in (host side: the workspace is a host mount)."""
        return files.copy_in(source, files.host_path(pod.workspace, dest))

    def copy_out(self, pod: Pod, source: str, dest: Path, max_bytes: int = 64 * 1024**2) -> list[str]:
        """See PodBackend.copy_out (host side, never following a link the candidate planted)."""
        return files.copy_out(files.host_path(pod.workspace, source), dest, max_bytes)

    @engine.translate_errors
    def kill(self, pod: Pod) -> None:
        """See PodBackend.kill. The workload goes first so it never outlives its mock."""
        api = engine.client().api
        for role in ("workload", "grader", "mock"):
            if role in pod.containers:
                try:
                    api.kill(pod.containers[role])
                except docker.errors.APIError as exc:
                    ignore_gone(exc)

    @engine.translate_errors
    def remove(self, pod: Pod | str) -> None:
        """See PodBackend.remove."""
        pod_id = pod if isinstance(pod, str) else pod.id
        pod_dir = pod.dir if isinstance(pod, Pod) else None
        try:
            api = engine.client().api
            for summary in api.containers(all=True, filters={"label": f"{LABEL_POD}={pod_id}"}):
                pod_dir = pod_dir or Path(summary["Labels"].get(LABEL_POD_DIR, ""))
            for role in ("workload", "grader", "mock"):
                try:
                    api.remove_container(container_name(pod_id, role), force=True, v=True)
                except docker.errors.APIError as exc:
                    ignore_gone(exc)
        finally:  # host state goes even when the engine has gone away meanwhile
            if pod_dir and str(pod_dir):
                layout.remove_pod_dir(pod_dir)

    @engine.translate_errors
    def list_pods(self, labels: dict[str, str] | None = None, every_platform: bool = False) -> Iterable[PodInfo]:
        """See PodBackend.list_pods."""
        mine = {} if every_platform else {LABEL_DATA_DIR: str(get_settings().resolved_data_dir)}
        filters = [LABEL_POD] + [f"{k}={v}" for k, v in {**mine, **(labels or {})}.items()]
        pods: dict[str, PodInfo] = {}
        for summary in engine.client().api.containers(all=True, filters={"label": filters}):
            found = summary["Labels"]
            deadline = layout.read_deadline(found.get(LABEL_POD_DIR)) or _int_or_none(found.get(LABEL_DEADLINE))
            info = pods.setdefault(found[LABEL_POD], PodInfo(
                id=found[LABEL_POD], roles={}, states={}, deadline=deadline,
                created=float(summary.get("Created", 0)), dir=found.get(LABEL_POD_DIR), labels=dict(found)))
            role = found.get(LABEL_ROLE, "?")
            info.roles[role] = summary["Id"]
            info.states[role] = summary.get("State", "")
        return list(pods.values())

    def extend_deadline(self, pod: Pod, deadline: int) -> None:
        """See PodBackend.extend_deadline."""
        layout.write_deadline(pod.dir, deadline)
        pod.deadline = int(deadline)

    @engine.translate_errors
    def find_pod(self, pod_id: str) -> Pod | None:
        """See PodBackend.find_pod."""
        from worksample.sandbox.recover import pod_from_containers

        api = engine.client().api
        found = [api.inspect_container(c["Id"]) for c in api.containers(all=True, filters={"label": f"{LABEL_POD}={pod_id}"})]
        return pod_from_containers(pod_id, found) if found else None


def _mock_image_and_command(pod: Pod, spec: PodSpec) -> tuple[str, list[str], list[Mount]]:
    """The mockllm image, its serve command and mounts, or the placeholder listener from the base image."""
    mounts, args, pod.mock_log_dir = layout.mock_mounts(pod.dir, spec)
    try:
        image = engine.resolve_image("mockllm")
        command = ["python", "-m", "worksample.mockllm", "serve", *args]
    except DockerUnavailable:
        raise
    except WorksampleError:  # mockllm not built, or not even defined yet: placeholder listener
        image = engine.resolve_image("base")
        command = ["python3", "-c", hardening.PLACEHOLDER_MOCK]
    return image, command, mounts


def _listening_inode(pid: int, mock, port: int = MOCK_PORT) -> int | None:
    """The inode of the socket listening on 127.0.0.1:<port> in the mock's namespace (0 if remote), or None."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/net/tcp") as fh:
            for line in fh:
                fields = line.split()
                if fields[1] == _listen_entry(port) and fields[3] == "0A":
                    return int(fields[9])
        return None
    except OSError:
        if os.path.exists(f"/proc/{pid}"):  # present but unreadable: a remote engine's pid space
            probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 1)"
            return 0 if mock.exec_run(["python3", "-c", probe]).exit_code == 0 else None
        return None


def _check_owner(mock, inode: int, port: int = MOCK_PORT) -> None:
    """Raise PodStartError unless a process of the mock container holds the listening socket."""
    if inode == 0:
        return  # remote engine: the in-mock probe already spoke to it
    target = f"socket:[{inode}]"
    for pid in _container_pids(mock):
        fd_dir = f"/proc/{pid}/fd"
        try:
            if any(os.readlink(f"{fd_dir}/{fd}") == target for fd in os.listdir(fd_dir)):
                return
        except OSError:
            continue
    raise PodStartError(f"something other than the mock LLM listens on 127.0.0.1:{port} in the pod")


def _container_pids(container) -> list[str]:
    """Host pids of a container's processes: from its cgroup (cheap), else `docker top`."""
    for path in (f"/sys/fs/cgroup/pids/docker/{container.id}/cgroup.procs",  # cgroup v1, cgroupfs driver
                 f"/sys/fs/cgroup/system.slice/docker-{container.id}.scope/cgroup.procs"):  # v2, systemd
        try:
            with open(path) as fh:
                return fh.read().split()
        except OSError:
            continue
    top = container.top()
    column = top["Titles"].index("PID")
    return [row[column] for row in top["Processes"] or []]


def _tail(container) -> str:
    try:
        text = container.logs(tail=5).decode("utf-8", "replace").strip()
    except docker.errors.APIError:
        return "(no logs)"
    return " | ".join(text.splitlines()[-5:]) or "(no output)"


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
