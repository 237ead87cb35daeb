"""Hardened sandbox pods: the only part of the platform that talks to Docker.

A pod is a mock LLM container (loopback-only network namespace) plus a
workload container joined to it, and optionally a grader. Use the module-level
functions (blocking) or `AsyncPods` (from async code):

    pod = create_pod(PodSpec(command=["python3", "-c", "print(1)"]))
    code = wait(pod, timeout=30)
    remove(pod)
"""

from __future__ import annotations

from functools import lru_cache

from worksample.sandbox.aio import AsyncPods
from worksample.sandbox.backend import ExecResult, Pod, PodBackend, PodInfo
from worksample.sandbox.engine import run_blocking
from worksample.sandbox.kernel import KernelNotReady, wait_kernel_ready
from worksample.sandbox.quota import Workspace, close_workspace, open_workspace
from worksample.sandbox.reaper import reap
from worksample.sandbox.run import RunResult, run_command
from worksample.sandbox.spec import GraderSpec, Limits, MockSpec, Mount, PodSpec


@lru_cache(maxsize=1)
def default_backend() -> PodBackend:
    """The backend pods run on (Docker; the only one so far)."""
    from worksample.sandbox.docker_pods import DockerPods

    return DockerPods()


def create_pod(spec: PodSpec) -> Pod:
    """Create and start a hardened pod (see PodBackend.create_pod)."""
    return default_backend().create_pod(spec)


def exec(pod: Pod, cmd: list[str], role: str = "workload", timeout: float | None = None) -> ExecResult:  # noqa: A001
    """Run a command in a running pod container (see PodBackend.exec)."""
    return default_backend().exec(pod, cmd, role, timeout)


def wait(pod: Pod, role: str = "workload", timeout: float | None = None) -> int | None:
    """Exit status of a pod container, or None while still running (see PodBackend.wait)."""
    return default_backend().wait(pod, role, timeout)


def kill(pod: Pod) -> None:
    """SIGKILL every container of the pod (see PodBackend.kill)."""
    default_backend().kill(pod)


def remove(pod: Pod | str) -> None:
    """Remove the pod's containers and host state (see PodBackend.remove)."""
    default_backend().remove(pod)


def find_pod(pod_id: str) -> Pod | None:
    """Rebuild a pod handle by id, e.g. after a restart (see PodBackend.find_pod)."""
    return default_backend().find_pod(pod_id)


def extend_deadline(pod: Pod, deadline: int) -> None:
    """Move the pod's deadline; the reaper honours it (see PodBackend.extend_deadline)."""
    default_backend().extend_deadline(pod, deadline)


__all__ = [
    "AsyncPods", "ExecResult", "GraderSpec", "KernelNotReady", "Limits", "MockSpec", "Mount", "Pod", "PodBackend",
    "PodInfo", "PodSpec", "RunResult", "Workspace", "close_workspace", "create_pod", "default_backend", "exec",
    "extend_deadline", "find_pod",
    "kill", "open_workspace", "reap", "remove", "run_blocking", "run_command", "wait", "wait_kernel_ready",
]
