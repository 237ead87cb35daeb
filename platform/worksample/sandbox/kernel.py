"""Driving a pod's ipykernel from the host over jupyter-client's `ipc` transport.

The kernel binds ZMQ unix sockets in the pod's ipc dir (bind-mounted at /ipc);
the host connects to the same files. No IP networking is involved, and what the
runner records is observed on the host, not reported by the sandbox.

The kernel is the candidate's: every socket of our client refuses a message
part over KERNEL_MESSAGE_MAX (ZMQ_MAXMSGSIZE: libzmq drops the connection
before allocating it) and queues at most KERNEL_QUEUE messages, and
`DropCounter` tells the runner a connection dropped (and renews it) so it is
reported as the candidate's outcome.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache

from typing import TYPE_CHECKING

from worksample.errors import InfrastructureError
from worksample.sandbox.backend import Pod
from worksample.sandbox.layout import KERNEL_PORTS

if TYPE_CHECKING:  # jupyter_client is imported on use: `import worksample.sandbox` stays light
    from jupyter_client import BlockingKernelClient


# Per message part. The runner keeps at most 4 MiB of a notebook's output, so nothing it would
# record is lost; with at most KERNEL_QUEUE messages queued per socket, a flood (or a replayed
# message) costs the host at most about KERNEL_QUEUE × KERNEL_MESSAGE_MAX.
KERNEL_MESSAGE_MAX = 8 * 1024**2
KERNEL_QUEUE = 4


class KernelNotReady(InfrastructureError, TimeoutError):
    """The pod's kernel did not answer kernel_info in time (subclasses TimeoutError)."""


def kernel_client(pod: Pod) -> "BlockingKernelClient":
    """A (not yet started) client for the pod's kernel; raises ValueError for a pod made without kernel=True."""
    if pod.connection is None:
        raise ValueError(f"pod {pod.id} was not created with kernel=True")
    client = _capped_client_class()()
    client.load_connection_info(pod.connection)
    return client


@lru_cache(maxsize=1)
def _capped_client_class():
    """BlockingKernelClient whose own ZMQ context refuses message parts over KERNEL_MESSAGE_MAX.

    The context is made by the client (so `stop_channels` destroys it) and is
    the client's alone: its defaults must not reach other sockets of the process.
    """
    import zmq
    from jupyter_client import BlockingKernelClient

    class CappedKernelClient(BlockingKernelClient):
        def _context_default(self) -> zmq.Context:
            self._created_context = True
            context = zmq.Context()
            context.setsockopt(zmq.MAXMSGSIZE, KERNEL_MESSAGE_MAX)  # a default for every socket made from it
            context.setsockopt(zmq.RCVHWM, KERNEL_QUEUE)  # past it the kernel's side holds (or drops) output
            context.setsockopt(zmq.LINGER, 0)
            return context

    return CappedKernelClient


class DropCounter:
    """How often the client's iopub and shell connections dropped (an over-size message, or the kernel died).

    Call it for the counts so far; `close()` when done. libzmq treats an
    over-size message as a protocol error and does not reconnect after one, so
    a dropped iopub connection is replaced by a fresh socket here: later output
    still arrives. Uses ZMQ socket monitors.
    """

    def __init__(self, client: "BlockingKernelClient") -> None:
        import zmq

        self._zmq = zmq
        self._client = client
        self._monitors = {name: self._monitor(name) for name in ("iopub", "shell")}
        self.counts = {name: 0 for name in self._monitors}

    def _socket(self, name: str):
        return getattr(self._client, f"{name}_channel").socket

    def _monitor(self, name: str):
        return self._socket(name).get_monitor_socket(self._zmq.EVENT_DISCONNECTED)

    def __call__(self) -> dict[str, int]:
        from zmq.utils.monitor import recv_monitor_message

        for name in list(self._monitors):
            dropped = False
            while True:
                try:
                    event = recv_monitor_message(self._monitors[name], self._zmq.NOBLOCK)
                except self._zmq.Again:
                    break
                dropped |= event["event"] == self._zmq.EVENT_DISCONNECTED
            if dropped:
                self.counts[name] += 1
                if name == "iopub":
                    self._renew_iopub()
        return dict(self.counts)

    def resync(self, timeout: float = 5.0) -> bool:
        """After a renewal, wait until the new iopub socket hears the kernel (ZMQ's slow joiner:
        a SUB misses what is published before its subscription arrives). Messages taken meanwhile
        are discarded: call between cells. Returns False if nothing was heard within `timeout`.
        """
        import queue
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._client.kernel_info()  # its busy/idle statuses are published on iopub
            try:
                self._client.get_iopub_msg(timeout=0.2)
                return True
            except queue.Empty:
                continue
            except ValueError:  # a malformed message is still a message heard
                return True
        return False

    def _renew_iopub(self) -> None:
        self._stop_monitor("iopub")
        self._client.iopub_channel.close()
        self._client._iopub_channel = None  # jupyter-client makes and connects a new one on next access
        self._monitors["iopub"] = self._monitor("iopub")

    def _stop_monitor(self, name: str) -> None:
        try:
            self._socket(name).disable_monitor()
        except self._zmq.ZMQError:
            pass
        self._monitors[name].close(linger=0)

    def close(self) -> None:
        """Stop monitoring (before the client's sockets are closed)."""
        for name in self._monitors:
            self._stop_monitor(name)


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
