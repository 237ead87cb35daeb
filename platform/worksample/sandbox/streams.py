"""Reading a container's output with a byte cap, so a flood cannot take the platform down.

Two bounds stack: the container's json-file log is capped by the log driver
(see hardening), and our readers stop keeping bytes at `cap`. Past the cap an
exec is drained and discarded (to learn its exit status); a followed workload
is simply let go, and the caller waits for its exit.
"""

from __future__ import annotations

import struct
from typing import Callable, Iterator

from docker import APIClient
from docker.types.daemon import CancellableStream

STDERR = 2

from worksample.sandbox.backend import ExecResult


def exec_capped(api: APIClient, container: str, cmd: list[str], cap: int) -> ExecResult:
    """Run `cmd` in `container` as its own user; keep at most `cap` bytes of stdout+stderr."""
    exec_id = api.exec_create(container, cmd, stdout=True, stderr=True)["Id"]
    out, err = bytearray(), bytearray()
    truncated = False
    stream = api.exec_start(exec_id, stream=True, demux=True)
    try:
        for chunk_out, chunk_err in stream:
            for buffer, chunk in ((out, chunk_out), (err, chunk_err)):
                if not chunk:
                    continue
                room = cap - len(out) - len(err)
                if len(chunk) > room:
                    truncated = True
                buffer.extend(chunk[: max(room, 0)])
    finally:
        _close(stream)
    code = api.exec_inspect(exec_id).get("ExitCode")
    return ExecResult(exit_code=-1 if code is None else int(code), stdout=bytes(out), stderr=bytes(err),
                      truncated=truncated)


def follow_capped(api: APIClient, container: str, on_stdout: Callable[[bytes], None],
                  on_stderr: Callable[[bytes], None], cap: int) -> bool:
    """Pass the container's output (from its start) to the sinks until it exits; True if `cap` cut it.

    Reads the logs endpoint, not attach: a reader that stops early must never
    stall the container (attach would push back on its stdout).
    """
    seen = 0
    stream = _follow_logs(api, container)
    try:
        for stream_id, chunk in stream:
            sink = on_stderr if stream_id == STDERR else on_stdout
            room = cap - seen
            sink(chunk[:room])
            seen += min(len(chunk), room)
            if len(chunk) > room:
                return True
    finally:
        _close(stream)
    return False


def _follow_logs(api: APIClient, container: str) -> CancellableStream:
    """A closable stream of (stream id, bytes) frames of the container's log, following it."""
    # docker-py's public logs() merges stdout and stderr; this is its own plumbing with demux kept.
    params = {"follow": 1, "stdout": 1, "stderr": 1, "timestamps": 0, "tail": "all"}
    response = api._get(api._url("/containers/{0}/logs", container), params=params, stream=True)
    api._raise_for_status(response)
    api._disable_socket_timeout(api._get_raw_response_socket(response))  # a quiet command may print nothing
    return CancellableStream(_frames(response), response)


def _frames(response) -> Iterator[tuple[int, bytes]]:
    """Split Docker's multiplexed stream (8-byte header: stream id, size) read through urllib3."""
    while True:
        header = response.raw.read(8)
        if len(header) < 8:
            return
        stream_id, length = struct.unpack(">BxxxL", header)
        data = response.raw.read(length) if length else b""
        if length and not data:
            return
        yield stream_id, data


def _close(stream: CancellableStream) -> None:
    """Close the stream's socket and its response: closing only the socket leaves the fd to the GC."""
    stream.close()
    stream._response.close()
