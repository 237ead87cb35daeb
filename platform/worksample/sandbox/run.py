"""Run one command in a fresh pod with a time limit: what `worksample sandbox run` does.

Time limits are layered: the command's own limit here (exit 124), then the pod's
deadline label, which the reaper enforces if this process dies first.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from worksample.sandbox.backend import PodBackend
from worksample.sandbox.spec import PodSpec

TIMEOUT_EXIT = 124  # as coreutils `timeout`
OUTPUT_CAP = 1024**2


@dataclass(frozen=True)
class RunResult:
    """How a command run in a pod ended."""

    exit_code: int
    timed_out: bool
    truncated: bool
    duration_s: float


def run_command(spec: PodSpec, on_stdout: Callable[[bytes], None], on_stderr: Callable[[bytes], None],
                cap: int = OUTPUT_CAP, backend: PodBackend | None = None) -> RunResult:
    """Create a pod running `spec.command`, stream its output (capped), wait up to `spec.timeout`.

    Returns the command's exit status, or 124 with `timed_out` when the time
    limit killed it. The pod is removed in every case, also on Ctrl-C.
    """
    from worksample.sandbox import default_backend

    backend = backend or default_backend()
    pod = backend.create_pod(spec)
    started = time.monotonic()
    try:
        truncated: list[bool] = []
        reader = threading.Thread(
            target=lambda: truncated.append(backend.stream_output(pod, on_stdout, on_stderr, cap)),
            name=f"output-{pod.id}", daemon=True)
        reader.start()
        code = backend.wait(pod, timeout=spec.timeout)
        if code is None:
            backend.kill(pod)
        reader.join(timeout=5)  # the log stream ends when the container stops
        return RunResult(exit_code=TIMEOUT_EXIT if code is None else code, timed_out=code is None,
                         truncated=bool(truncated and truncated[0]), duration_s=time.monotonic() - started)
    finally:
        backend.remove(pod)
