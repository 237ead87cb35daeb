"""Async face of the sandbox: every blocking backend call runs in the sandbox thread pool.

Use this from `async def` code (routes, the proxy); the event loop never waits
on Docker, as in dockerspawner.
"""

from __future__ import annotations

from pathlib import Path

from worksample.sandbox.backend import ExecResult, Pod, PodBackend, PodInfo
from worksample.sandbox.engine import run_blocking
from worksample.sandbox.spec import PodSpec


class AsyncPods:
    """The PodBackend methods as coroutines (same arguments, same results, same errors)."""

    def __init__(self, backend: PodBackend | None = None) -> None:
        from worksample.sandbox import default_backend

        self.backend = backend or default_backend()

    async def create_pod(self, spec: PodSpec) -> Pod:
        """See PodBackend.create_pod."""
        return await run_blocking(self.backend.create_pod, spec)

    async def exec(self, pod: Pod, cmd: list[str], role: str = "workload", timeout: float | None = None,
                   cap: int = 1024**2) -> ExecResult:
        """See PodBackend.exec."""
        return await run_blocking(self.backend.exec, pod, cmd, role, timeout, cap)

    async def wait(self, pod: Pod, role: str = "workload", timeout: float | None = None) -> int | None:
        """See PodBackend.wait."""
        return await run_blocking(self.backend.wait, pod, role, timeout)

    async def stream_output(self, pod: Pod, on_stdout, on_stderr, cap: int) -> bool:
        """See PodBackend.stream_output (the sinks are called from a pool thread)."""
        return await run_blocking(self.backend.stream_output, pod, on_stdout, on_stderr, cap)

    async def copy_in(self, pod: Pod, source: Path, dest: str = "/workspace") -> int:
        """See PodBackend.copy_in."""
        return await run_blocking(self.backend.copy_in, pod, source, dest)

    async def copy_out(self, pod: Pod, source: str, dest: Path, max_bytes: int = 64 * 1024**2) -> list[str]:
        """See PodBackend.copy_out."""
        return await run_blocking(self.backend.copy_out, pod, source, dest, max_bytes)

    async def kill(self, pod: Pod) -> None:
        """See PodBackend.kill."""
        await run_blocking(self.backend.kill, pod)

    async def remove(self, pod: Pod | str) -> None:
        """See PodBackend.remove."""
        await run_blocking(self.backend.remove, pod)

    async def list_pods(self, labels: dict[str, str] | None = None, every_platform: bool = False) -> list[PodInfo]:
        """See PodBackend.list_pods."""
        return list(await run_blocking(self.backend.list_pods, labels, every_platform))

    async def extend_deadline(self, pod: Pod, deadline: int) -> None:
        """See PodBackend.extend_deadline."""
        await run_blocking(self.backend.extend_deadline, pod, deadline)

    async def find_pod(self, pod_id: str) -> Pod | None:
        """See PodBackend.find_pod."""
        return await run_blocking(self.backend.find_pod, pod_id)

    async def reap(self, now: float | None = None) -> list:
        """See reaper.reap."""
        from worksample.sandbox.reaper import reap

        return await run_blocking(reap, now, self.backend)

    async def wait_kernel_ready(self, pod: Pod, timeout: float = 30.0):
        """See kernel.wait_kernel_ready."""
        from worksample.sandbox.kernel import wait_kernel_ready

        return await run_blocking(wait_kernel_ready, pod, timeout)
