"""Deterministic decisions: which fault a request draws, how long it waits.

Every decision comes from an rng keyed on (seed, request index, request hash)
and a purpose label, so the same profile, seed and request sequence give the
same faults, the same latencies and the same content; and the oracle drawing
more or fewer numbers never shifts the fault plan. Incidents are windows on
the run's clock (seconds since the server started).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from worksample.mockllm.profile import CONTENT_FAULTS, STREAM_FAULTS, Incident, Profile

DEFAULT_STALL_S = 120.0
_Z95 = 1.6448536269514722  # standard normal 95th percentile


def rng_for(seed: int, index: int, request_hash: str, purpose: str) -> random.Random:
    """A Random seeded from (seed, index, request_hash, purpose)."""
    digest = hashlib.sha256(f"{seed}:{index}:{request_hash}:{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


@dataclass(frozen=True)
class Draw:
    """What the plan decided for one request."""

    fault: str | None
    latency_s: float
    stall_s: float


class FaultPlan:
    """The profile's faults, latency and incidents, ready to draw from."""

    def __init__(self, profile: Profile, seed: int) -> None:
        self.seed = seed
        self.faults = [(f.kind, f.rate, f.stall_s) for f in profile.faults if f.rate > 0]
        lat = profile.latency
        self.p50_s = lat.p50_ms / 1000 if lat else 0.0
        self.sigma = math.log(lat.p95_ms / lat.p50_ms) / _Z95 if lat and lat.p50_ms > 0 and lat.p95_ms > lat.p50_ms else 0.0
        self.incidents = list(profile.incidents)

    def draw(self, index: int, request_hash: str, *, chat: bool, stream: bool) -> Draw:
        """Draw the fault and latency of request `index` (faults that do not apply become None)."""
        rng = rng_for(self.seed, index, request_hash, "plan")
        u = rng.random()
        latency = self._latency(rng)
        fault, stall = None, DEFAULT_STALL_S
        acc = 0.0
        for kind, rate, stall_s in self.faults:
            acc += rate
            if u < acc:
                fault, stall = kind, stall_s or DEFAULT_STALL_S
                break
        if fault in CONTENT_FAULTS and not chat:
            fault = None
        if fault in STREAM_FAULTS and not stream:
            fault = None
        return Draw(fault, latency, stall)

    def _latency(self, rng: random.Random) -> float:
        # Always consume the same rng draws so the plan does not depend on the profile's latency.
        g = rng.gauss(0.0, 1.0)
        if self.p50_s <= 0:
            return 0.0
        return min(self.p50_s * math.exp(self.sigma * g), 600.0)

    def incident(self, elapsed_s: float, kind: str) -> tuple[int, Incident] | None:
        """The first incident of `kind` whose window holds `elapsed_s`, with its index."""
        for i, inc in enumerate(self.incidents):
            if inc.kind == kind and inc.start_s <= elapsed_s < inc.start_s + inc.duration_s:
                return i, inc
        return None
