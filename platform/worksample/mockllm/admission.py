"""Admission: what the mock holds at once is bounded, whatever a client sends.

A pod gives the mock 256 MiB. Before these bounds, 160 connections each
holding a 2 MiB body took it past that and the kernel killed it. Now:

- at most `MAX_IN_FLIGHT` requests are served at once; more get a logged
  503 `server_busy` (with retry-after), not a queue;
- every request reserves memory from one pool (`POOL_BYTES`) for its whole
  life: its body's bytes as they are read (Content-Length up front, else
  chunk by chunk), then an estimate of the parsed body (`NODE_BYTES` per JSON
  value); a request that does not fit waits for nobody: 503 `server_busy`;
- a body whose parsed form alone would take more than `MAX_REQUEST_BYTES`
  can never be served: 413 `request_too_large`.

Only one body is parsed at a time (parsing runs on the event loop), so the
transient peak of a parse is bounded by the body cap times JSON's expansion.
The uvicorn protocol in `protocol.py` bounds what a connection holds before
the app sees it (request line and headers).
"""

from __future__ import annotations

MAX_IN_FLIGHT = 128
POOL_BYTES = 48 * 1024**2
NODE_BYTES = 64  # what one parsed JSON value costs, roughly (a small dict is more, an int less)
MAX_REQUEST_BYTES = 16 * 1024**2
MAX_NODES = MAX_REQUEST_BYTES // NODE_BYTES


class Admission:
    """Counts requests in flight and the memory they have reserved."""

    def __init__(self, max_in_flight: int = MAX_IN_FLIGHT, pool_bytes: int = POOL_BYTES) -> None:
        self.max_in_flight = max_in_flight
        self.pool_bytes = pool_bytes
        self.in_flight = 0
        self.reserved = 0
        self.refused = 0  # requests turned away as server_busy, for the stop record

    def full(self) -> bool:
        """True when no further request may start."""
        return self.in_flight >= self.max_in_flight

    def reserve(self, nbytes: int) -> bool:
        """Take `nbytes` from the pool; False (nothing taken) when it does not fit."""
        if nbytes > 0 and self.reserved + nbytes > self.pool_bytes:
            return False
        self.reserved += max(nbytes, 0)
        return True

    def release(self, nbytes: int) -> None:
        """Give back what a finished request reserved."""
        self.reserved = max(self.reserved - nbytes, 0)


def parsed_cost(value: object, limit: int = MAX_NODES) -> int:
    """Estimated bytes a parsed JSON value holds beyond its text: NODE_BYTES per value.

    Walks iteratively (no recursion limit) and stops counting past `limit`
    values, returning a figure above MAX_REQUEST_BYTES.
    """
    nodes, stack = 0, [value]
    while stack:
        item = stack.pop()
        nodes += 1
        if nodes > limit:
            return (limit + 1) * NODE_BYTES
        if isinstance(item, dict):
            stack.extend(item.values())
            nodes += len(item)  # the keys
        elif isinstance(item, list):
            stack.extend(item)
    return nodes * NODE_BYTES
