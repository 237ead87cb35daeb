"""Driving a pod's ipykernel from the host over jupyter-client's `ipc` transport.

The kernel binds ZMQ unix sockets in the pod's ipc dir (bind-mounted at /ipc);
the host connects to the same files. No IP networking is involved, and what the
runner records is observed on the host, not reported by the sandbox.
"""

from __future__ import annotations

import os
import time

from typing import TYPE_CHECKING

from worksample.errors import InfrastructureError
from worksample.sandbox.backend import Pod
from worksample.sandbox.layout import KERNEL_PORTS

if TYPE_CHECKING:  # jupyter_client is imported on use: `import worksample.sandbox` stays light
    from jupyter_client import BlockingKernelClient


class KernelNotReady(InfrastructureError, TimeoutError):
    """The pod's kernel did not answer kernel_info in time (subclasses TimeoutError)."""


def kernel_client(pod: Pod) -> "BlockingKernelClient":
    """A (not yet started) client for the pod's kernel; raises ValueError for a pod made without kernel=True."""
    if pod.connection is None:
        raise ValueError(f"pod {pod.id} was not created with kernel=True")
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(pod.connection)
    return client


def wait_kernel_ready(pod: Pod, timeout: float = 30.0) -> "BlockingKernelClient":
    """Wait until the pod's kernel answers kernel_info; return a started client (caller stops its channels).

    Raises KernelNotReady if it does not within `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    _wait_sockets(pod, deadline)
    client = kernel_client(pod)
    client.start_channels()
    try:
        client.wait_for_ready(timeout=max(0.1, deadline - time.monotonic()))
    except RuntimeError as exc:  # jupyter_client raises RuntimeError on timeout or a dead kernel
        client.stop_channels()
        raise KernelNotReady(f"kernel in pod {pod.id} not ready: {exc}") from None
    return client


def _wait_sockets(pod: Pod, deadline: float) -> None:
    """Poll for the kernel's socket files: connecting before they exist costs a ZMQ reconnect interval."""
    prefix = pod.connection["ip"]
    paths = [f"{prefix}-{pod.connection[name]}" for name in KERNEL_PORTS]
    delay = 0.005
    while not all(os.path.exists(p) for p in paths):
        if time.monotonic() > deadline:
            raise KernelNotReady(f"kernel in pod {pod.id} made no sockets in {pod.ipc_dir}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)
