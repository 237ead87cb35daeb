"""Deterministic decisions: which fault a request draws, how long it waits.

Every decision comes from an rng keyed on (seed, attempt, logical hash) and a
purpose label (the oracle's: on (seed, logical hash) alone, so a question's
answer is the same whichever attempt gets through): the logical hash is the question the request asks
(worksample_grader.logical), the attempt how many times that question reached the fault
draw before (`Attempts`). So a request's fault, latency and content do not
depend on when it arrived or what other requests did meanwhile: a client
that sends the same questions concurrently, in whatever order they happen
to arrive, meets the same faults on the same questions, and a regrade
scores the same. A retry is the next attempt of its question, so it draws
afresh. The oracle drawing more or fewer numbers never shifts the plan.

Incidents are windows of seconds that open either at a time on the run's
clock (`start_s`: seconds since the first mock started) or when a question
of a given rank first reaches the draw (`start_at`): the latter meet the
same part of a run however slowly the pod and kernel started. A
per-question outage (`Schedule`, `attempts`) has no clock at all: the
questions of its ranks fail their first K attempts. Scheduled faults (`Schedule`) are not random: they go to the
first attempt of the question of a given rank (the k-th distinct question
to reach the draw), so a retry, an SDK's own retries, a nonce retry or a
duplicate never moves them, and a retry of a question that met one draws
as any other attempt (a 429, then success on retry). Only the *rank* of a
question depends on arrival order: guaranteeing every kind within the first
~20 calls needs dealing by position (a rule on the question alone is a
coupon collector: even if every request drew one of 7 kinds, 20 requests
would miss one about a third of the time).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from worksample.mockllm.profile import CONTENT_FAULTS, STREAM_FAULTS, Incident, Profile, ScheduledFault

DEFAULT_STALL_S = 120.0
_Z95 = 1.6448536269514722  # standard normal 95th percentile


def rng_for(seed: int, index: int, request_hash: str, purpose: str) -> random.Random:
    """A Random seeded from (seed, index, request_hash, purpose).

    The mock's API calls pass (attempt, logical hash); the task service
    passes its own (index, digest).
    """
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
        self.opened: dict[int, float] = {}  # incident index -> run-clock seconds its start_at question arrived

    def draw(self, attempt: int, logical_hash: str, *, chat: bool, stream: bool) -> Draw:
        """Draw the fault and latency of `attempt` (0-based) of question `logical_hash` (faults that do not apply become None)."""
        rng = rng_for(self.seed, attempt, logical_hash, "plan")
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
        """The first incident of `kind` whose window holds `elapsed_s` (run-clock seconds), with its index."""
        for i, inc in enumerate(self.incidents):
            start = inc.start_s if inc.start_s is not None else self.opened.get(i)
            if inc.kind == kind and start is not None and start <= elapsed_s < start + inc.duration_s:
                return i, inc
        return None

    def open_at(self, rank: int, elapsed_s: float) -> None:
        """The question of `rank` reached the draw at `elapsed_s`: open the incidents that start at it."""
        for i, inc in enumerate(self.incidents):
            if inc.start_at is not None and i not in self.opened and inc.start_at <= rank:
                self.opened[i] = elapsed_s


class Attempts:
    """How many times each question (logical hash) has reached the fault draw.

    `next` gives a request its attempt number (0 for the first time its
    question is asked) and, on a first attempt, the question's rank among
    distinct questions. Keys are 16 bytes of the hash, so a million
    distinct questions hold about 100 MB; the profile's rate limits and the
    mock's memory guard bound how many a run can send.
    """

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}

    @staticmethod
    def _key(logical_hash: str) -> bytes:
        try:
            return bytes.fromhex(logical_hash[:32])
        except ValueError:  # not hex: never from the mock itself, but keep any string usable
            return hashlib.sha256(logical_hash.encode()).digest()[:16]

    def next(self, logical_hash: str) -> tuple[int, int | None]:
        """(attempt, rank): attempt counts earlier draws of this question; rank is set on attempt 0 only."""
        key = self._key(logical_hash)
        attempt = self._seen.get(key, 0)
        self._seen[key] = attempt + 1
        return attempt, (len(self._seen) - 1 if attempt == 0 else None)

    @property
    def distinct(self) -> int:
        """How many distinct questions have reached the draw."""
        return len(self._seen)


# Scheduled kinds answered with an error before any content (the rest go through the Draw).
HOLD_TOLERANCE_S = 0.05  # an until_waited retry this much early still gets through (the grader's tolerance too)
SCHEDULED_ERRORS = ("rate_limited", "bad_request", "outage")


class Schedule:
    """The profile's scheduled faults by question rank, and the scheduled outages.

    `take` returns the fault due at this rank (or an earlier one still
    waiting because it could not apply to the questions it met), in `at`
    order. Only first attempts take scheduled faults (see the module
    docstring). Not drawn from an rng.

    A per-question outage (`attempts: K`, `questions: W`) is not taken: the
    questions of ranks at .. at+W-1 are noted when they first arrive and
    `down` fails their first K attempts, whenever those come; nothing in it
    depends on the clock or on what other questions do meanwhile. A
    wall-clock outage (`duration_s`) opens a window on the clock instead.
    A 429 with `until_waited` holds its question: `holding` refuses every
    retry that comes before the retry-after is over (the server then holds
    it afresh), so only a client that waits gets through.
    """

    def __init__(self, profile: Profile, done_before: int = 0) -> None:
        # Faults before `done_before` (a rank) were met by an earlier mock on this log dir. A fault over
        # several questions (rate_limited with `questions`) is one pending fault per rank.
        each = [f.model_copy(update={"at": rank, "questions": None}) if len(f.ranks) > 1 else f
                for f in profile.scheduled_faults if not f.per_question and f.share is None for rank in f.ranks]
        self.shares = [f for f in profile.scheduled_faults if f.share is not None]
        self.pending: list[ScheduledFault] = sorted((f for f in each if f.at >= done_before), key=lambda f: f.at)
        # question -> (unix time its until_waited retry-after is over, the retry-after). Not rebuilt by a
        # restarted mock: a question held when the mock stopped is let through on its next request.
        self.held: dict[str, tuple[float, float]] = {}
        self.outage_until = 0.0  # unix time a wall-clock scheduled outage ends
        self.windows = [(f.at, f.at + (f.questions or 1), f.attempts or 0)
                        for f in profile.scheduled_faults if f.per_question]
        self.down_for: dict[str, int] = {}  # question -> attempts it fails; at most the windows' total size

    def note(self, question: str, rank: int) -> None:
        """The first attempt of `question` got `rank`: put it in the per-question outage whose ranks hold it."""
        for low, high, attempts in self.windows:
            if low <= rank < high:
                self.down_for[question] = max(self.down_for.get(question, 0), attempts)

    def down(self, question: str, attempt: int) -> bool:
        """True when `attempt` (0-based) of `question` falls in a per-question outage."""
        return attempt < self.down_for.get(question, 0)

    def outage(self, now: float) -> bool:
        """True while a scheduled outage is in force."""
        return now < self.outage_until

    def take(self, rank: int, applies) -> ScheduledFault | None:
        """The scheduled fault for the first attempt of the question of `rank` (removed from the schedule), if one is due and applies."""
        for i, fault in enumerate(self.pending):
            if fault.at > rank:
                return None
            if applies(fault.kind):
                return self.pending.pop(i)
        return None

    def share_hold(self, seed: int, question: str) -> float | None:
        """The retry-after of a `share` 429 that picks `question` by its hash (first attempts), else None."""
        for fault in self.shares:
            if rng_for(seed, 0, question, "share-429").random() < fault.share:
                return fault.retry_after_s or 1.0
        return None

    def hold(self, question: str, now: float, retry_after_s: float) -> None:
        """Refuse `question` for `retry_after_s` from unix time `now` (a scheduled 429 with until_waited)."""
        # HOLD_TOLERANCE_S in the client's favour: it counts its wait from when the 429 reached it.
        self.held[question] = (now + retry_after_s - HOLD_TOLERANCE_S, retry_after_s)

    def holding(self, question: str, now: float) -> float | None:
        """The retry-after to give `question` again if it came back too early (refuse it), else None (let it through)."""
        until, retry_after = self.held.get(question, (None, 0.0))
        if until is None:
            return None
        if now >= until:
            del self.held[question]
            return None
        return retry_after

    def start_outage(self, fault: ScheduledFault, now: float) -> None:
        """Open the window of a scheduled outage that starts now."""
        self.outage_until = max(self.outage_until, now + float(fault.duration_s or 0))


def applies(kind: str, *, chat: bool, stream: bool, wants_json: bool) -> bool:
    """Whether a fault of `kind` can be met by this request (see Schedule.take)."""
    if kind in STREAM_FAULTS:
        return chat and stream
    if kind == "malformed_json":
        return chat and wants_json
    if kind in CONTENT_FAULTS:
        return chat
    return True
