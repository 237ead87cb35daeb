"""The narrow interface every sandbox backend implements, and the `Pod` handle it returns.

Like jupyter_client's provisioner base class, this is "where a pod runs" behind
a handful of methods: create, exec, wait, output, copy in/out, kill, list,
remove. The Docker backend is the one we have; a Kubernetes one (a pod with the
mock as a sidecar and a deny-all NetworkPolicy) would implement the same.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from worksample.sandbox.spec import PodSpec


@dataclass
class Pod:
    """A running pod: its id, host dir, container names by role and what the workload was given."""

    id: str
    dir: Path
    containers: dict[str, str]
    api_key: str
    deadline: int
    workspace: Path
    ipc_dir: Path | None = None
    mock_log_dir: Path | None = None
    connection: dict | None = None  # kernel connection info as seen from the host
    ephemeral_workspace: bool = False
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecResult:
    """What a command run with `exec` produced (output capped)."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    truncated: bool = False


@dataclass(frozen=True)
class PodInfo:
    """A pod as found by label: enough for the reaper to judge it after a restart."""

    id: str
    roles: dict[str, str]  # role -> container id
    states: dict[str, str]  # role -> running | exited | created | ...
    deadline: int | None
    created: float
    dir: str | None
    labels: dict[str, str] = field(default_factory=dict)  # the pod's labels (every container carries the same, but its role)


OutputSink = Callable[[bytes], None]


class PodBackend(ABC):
    """Creates and controls pods. Every method blocks; use `AsyncPods` from async code."""

    @abstractmethod
    def create_pod(self, spec: PodSpec) -> Pod:
        """Create and start the pod (mock listening, then workload); raise and leave nothing on failure."""

    @abstractmethod
    def exec(self, pod: Pod, cmd: list[str], role: str = "workload", timeout: float | None = None,
             cap: int = 1024**2) -> ExecResult:
        """Run `cmd` in a running container of the pod as its own non-root user; output capped at `cap`."""

    @abstractmethod
    def wait(self, pod: Pod, role: str = "workload", timeout: float | None = None) -> int | None:
        """The exit status of the role's main process, or None if still running after `timeout`."""

    @abstractmethod
    def stream_output(self, pod: Pod, on_stdout: OutputSink, on_stderr: OutputSink, cap: int) -> bool:
        """Feed the workload's output to the sinks until it exits or `cap` bytes; True if capped."""

    @abstractmethod
    def copy_in(self, pod: Pod, source: Path, dest: str = "/workspace") -> int:
        """Copy a host file or folder into the pod's workspace; return bytes copied."""

    @abstractmethod
    def copy_out(self, pod: Pod, source: str, dest: Path, max_bytes: int = 64 * 1024**2) -> list[str]:
        """Copy a workspace path out to `dest`, never following links; return files skipped."""

    @abstractmethod
    def kill(self, pod: Pod) -> None:
        """Stop every container of the pod at once (SIGKILL); already stopped is fine."""

    @abstractmethod
    def remove(self, pod: Pod | str) -> None:
        """Remove the pod's containers and host state (ephemeral workspace, ipc dir); idempotent."""

    @abstractmethod
    def list_pods(self, labels: dict[str, str] | None = None, every_platform: bool = False) -> Iterable[PodInfo]:
        """This platform's pods (same data dir), found by label, so it works after a restart.

        `every_platform` also lists pods of other platforms sharing the engine.
        """

    @abstractmethod
    def extend_deadline(self, pod: Pod, deadline: int) -> None:
        """Move the pod's deadline (unix seconds); the reaper honours it from then on."""

    @abstractmethod
    def find_pod(self, pod_id: str) -> Pod | None:
        """Rebuild a Pod handle from what the engine and the pod dir hold (after a restart), or None."""
