"""The mock's profile: models and prices, limits, budget, latency, faults, incidents.

A profile is YAML validated by pydantic models with `extra="forbid"`, so a typo
is an error rather than a silently ignored key. `load_profile` is the one entry
point; the task validator reuses it. Beyond the DESIGN §6 example:

- models: `context_window` (default 128000), `kind: chat|embedding` (default
  chat), `dimensions` for embedding models (default 256). Prices are required.
- faults: also `stream_cut` (connection dropped mid-stream, no `[DONE]`) and
  `stream_error` (a `data: {"error": …}` event, then the end); they apply only
  to `stream: true` requests. `timeout` takes `stall_s` (default 120 s): how
  long the body stalls after the headers before the connection is dropped.
- incidents: windows of `duration_s` seconds; `rate_limit_storm` takes
  `rpm` and/or `tpm`, an extra per-key bucket in force during the window.
  The window opens either `start_s` seconds after the first mock on the log
  dir started (an attempt's profile: a long session), or when the question
  of rank `start_at` (see scheduled_faults) first reaches the draw, so it
  meets the same part of a run however long the pod, kernel and imports
  took before the first call (grading profiles).
- scheduled_faults: faults at fixed places, so every run that makes enough
  calls meets each kind (grading profiles). `at` counts *distinct questions*
  (logical requests, worksample_grader.logical) among paid requests (chat completions and
  embeddings that get past validation, quota and rate limits: where a fault
  is drawn; never models.list), 0-based, since the first mock started on the
  log dir; the fault goes to the first attempt of that question, so retries,
  nonce retries and duplicates neither move the schedule nor meet it again
  (a 429 then success on retry). `kind` is any fault kind above, or
  `rate_limited` (429 with retry-after = `retry_after_s`, default 1; with
  `questions: W` the W questions of ranks at .. at+W-1 each get one; with
  `share: p` instead of `questions`, the first attempt of every question
  whose seeded hash falls under p (about that share of them, the same ones
  whatever order they arrive in; `at` is then only a label); with
  `until_waited: true` a retry of such a question that comes before its
  retry-after is over is refused again, with a fresh retry-after, and is no
  attempt of it: so an honest client, whose measured wait only grows with
  host load, gets through on its first retry, and a client that retries at
  once never does, whatever the load),
  `bad_request` (400, not retryable) or `outage`. An outage with
  `attempts: K` (and `questions: W`, default 1) is per question, timed by
  no clock: the W distinct questions of ranks at .. at+W-1 each get 503 on
  their first K attempts (retries included), then are served as usual, so
  which questions meet it and how often never depends on host speed. An
  outage with `duration_s` instead is a window on the wall clock (every
  paid request gets 503 for that long from the rank-`at` question on): kept
  for older profiles, but under load it meets a different part of a run.
  A scheduled fault takes precedence over
  the random draw at its rank; one that cannot apply to that request (a
  stream fault on a plain request, malformed_json where no JSON was asked
  for, a content fault on embeddings) waits for the next new question it
  applies to.
- service_faults: like faults (transport kinds only), for the task's
  service.py on port 8081 (see service.py).
- Absent `rate_limits`, `budget_usd`, `latency`: no limit, no budget, no delay.
- Budget is the whole server's spend (the organisation's quota); rate limits
  are per API key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Faults a profile can ask for. The first five apply to every POST endpoint;
# the content faults apply to chat completions; the stream faults only to
# chat completions with `stream: true` (a non-streaming request that draws one
# gets no fault, so the draw sequence stays the same either way).
TRANSPORT_FAULTS = ("server_error", "overloaded", "bad_gateway", "timeout", "reset")
CONTENT_FAULTS = ("malformed_json", "truncated", "content_filter")
STREAM_FAULTS = ("stream_cut", "stream_error")
FaultKind = Literal[
    "server_error", "overloaded", "bad_gateway", "timeout", "reset",
    "malformed_json", "truncated", "content_filter", "stream_cut", "stream_error",
]

ScheduledKind = Literal[
    "server_error", "overloaded", "bad_gateway", "timeout", "reset",
    "malformed_json", "truncated", "content_filter", "stream_cut", "stream_error",
    "rate_limited", "bad_request", "outage",
]

DAY_S = 86_400.0


class ProfileError(Exception):
    """A profile that cannot be used; `str()` is `"<path>: <dotted.key>: <message>"`."""

    def __init__(self, path: str | Path, key: str, message: str) -> None:
        self.path = str(path)
        self.key = key
        self.message = message
        super().__init__(f"{self.path}: {key}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """One model the mock serves, with its prices in USD per million tokens."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
    input_per_mtok: float = Field(ge=0, le=10_000)
    output_per_mtok: float = Field(ge=0, le=10_000)
    context_window: int = Field(default=128_000, ge=16, le=10_000_000)
    kind: Literal["chat", "embedding"] = "chat"
    dimensions: int = Field(default=256, ge=1, le=8192, description="embedding models only")


class RateLimits(_Strict):
    """Per-key token buckets: requests and tokens per minute."""

    rpm: int = Field(gt=0, le=10_000_000)
    tpm: int = Field(gt=0, le=1_000_000_000)


class Latency(_Strict):
    """Injected latency, log-normal with this median and 95th percentile; 0 turns it off."""

    p50_ms: float = Field(ge=0, le=600_000)
    p95_ms: float = Field(ge=0, le=600_000)

    @model_validator(mode="after")
    def _ordered(self) -> Latency:
        if self.p95_ms < self.p50_ms:
            raise ValueError("p95_ms must be >= p50_ms")
        return self


class Fault(_Strict):
    """One fault kind and the probability that a request draws it."""

    kind: FaultKind
    rate: float = Field(ge=0, le=1)
    stall_s: float | None = Field(default=None, gt=0, le=3600, description="timeout only: how long the body stalls")

    @model_validator(mode="after")
    def _stall_only_for_timeout(self) -> Fault:
        if self.stall_s is not None and self.kind != "timeout":
            raise ValueError("stall_s applies only to kind: timeout")
        return self


class ScheduledFault(_Strict):
    """A fault at a fixed place: the first attempt of the `at`-th distinct question (0-based)."""

    at: int = Field(ge=0, le=10_000_000)
    kind: ScheduledKind
    retry_after_s: float | None = Field(default=None, gt=0, le=3600, description="rate_limited only")
    duration_s: float | None = Field(default=None, gt=0, le=DAY_S, description="outage only: a wall-clock window")
    attempts: int | None = Field(default=None, ge=1, le=100, description="outage only: 503s per question (no clock)")
    questions: int | None = Field(default=None, ge=1, le=10_000,
                                  description="outage with attempts, rate_limited: how many questions from `at`")
    until_waited: bool | None = Field(default=None, description="rate_limited: refuse retries until retry-after is over")
    share: float | None = Field(default=None, gt=0, le=1,
                                description="rate_limited: the questions whose seeded hash falls under this share")
    stall_s: float | None = Field(default=None, gt=0, le=3600, description="timeout only")

    @model_validator(mode="after")
    def _options_match_kind(self) -> ScheduledFault:
        for option, kind in (("retry_after_s", "rate_limited"), ("duration_s", "outage"), ("attempts", "outage"),
                             ("until_waited", "rate_limited"), ("share", "rate_limited"), ("stall_s", "timeout")):
            if getattr(self, option) is not None and self.kind != kind:
                raise ValueError(f"{option} applies only to kind: {kind}")
        if self.kind == "outage" and (self.duration_s is None) == (self.attempts is None):
            raise ValueError("an outage needs duration_s (a wall-clock window) or attempts (per question), not both")
        if self.questions is not None and self.attempts is None and self.kind != "rate_limited":
            raise ValueError("questions applies only to an outage with attempts or to rate_limited")
        if self.share is not None and self.questions is not None:
            raise ValueError("share picks questions by their hash: give it or questions, not both")
        return self

    @property
    def ranks(self) -> range:
        """The question ranks this fault covers."""
        return range(self.at, self.at + (self.questions or 1))

    @property
    def per_question(self) -> bool:
        """An outage counted in attempts per question rather than seconds."""
        return self.kind == "outage" and self.attempts is not None


class Incident(_Strict):
    """A window of `duration_s` seconds, opening at `start_s` on the run's clock or at the question of rank `start_at`."""

    kind: Literal["outage", "rate_limit_storm"]
    start_s: float | None = Field(default=None, ge=0, le=DAY_S, description="seconds since the first mock started")
    start_at: int | None = Field(default=None, ge=0, le=10_000_000, description="rank of the distinct question that opens it")
    duration_s: float = Field(gt=0, le=DAY_S)
    rpm: int | None = Field(default=None, gt=0, le=10_000_000)
    tpm: int | None = Field(default=None, gt=0, le=1_000_000_000)

    @model_validator(mode="after")
    def _limits_match_kind(self) -> Incident:
        if (self.start_s is None) == (self.start_at is None):
            raise ValueError("an incident needs start_s or start_at, not both")
        if self.kind == "rate_limit_storm" and self.rpm is None and self.tpm is None:
            raise ValueError("a rate_limit_storm needs rpm or tpm")
        if self.kind == "outage" and (self.rpm is not None or self.tpm is not None):
            raise ValueError("an outage takes no rpm/tpm")
        return self


class Profile(_Strict):
    """A whole profile. Every key but `models` is optional; absent means off."""

    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    models: list[ModelSpec] = Field(min_length=1)
    rate_limits: RateLimits | None = None
    budget_usd: float | None = Field(default=None, ge=0, le=1_000_000)
    latency: Latency | None = None
    faults: list[Fault] = Field(default_factory=list)
    incidents: list[Incident] = Field(default_factory=list)
    scheduled_faults: list[ScheduledFault] = Field(default_factory=list, max_length=10_000)
    service_faults: list[Fault] = Field(default_factory=list, description="faults of the task service (service.py)")

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        ids = [m.id for m in self.models]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate model id in models: {sorted({i for i in ids if ids.count(i) > 1})}")
        kinds = [f.kind for f in self.faults]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each fault kind may appear once in faults")
        service_kinds = [f.kind for f in self.service_faults]
        if any(k not in TRANSPORT_FAULTS for k in service_kinds):
            raise ValueError(f"service_faults: only {', '.join(TRANSPORT_FAULTS)} apply to a task service")
        if len(set(service_kinds)) != len(service_kinds) or sum(f.rate for f in self.service_faults) > 1 + 1e-9:
            raise ValueError("service_faults: each kind once, rates summing to at most 1")
        spans = sorted((f.ranks.start, f.ranks.stop) for f in self.scheduled_faults if f.share is None)
        clashes = sorted({b[0] for a, b in zip(spans, spans[1:]) if b[0] < a[1]})
        if clashes:
            raise ValueError(f"two scheduled_faults at the same index {clashes}")
        total = sum(f.rate for f in self.faults)
        if total > 1 + 1e-9:
            raise ValueError(f"fault rates sum to {total:.4g}, above 1")
        return self

    def model_ids(self) -> list[str]:
        """The model ids in profile order (cheapest first by convention)."""
        return [m.id for m in self.models]

    def model(self, model_id: str) -> ModelSpec | None:
        """The model with this id, or None."""
        for spec in self.models:
            if spec.id == model_id:
                return spec
        return None


def _dotted(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(document)"


def _error_key(err: dict) -> str:
    # Errors raised by a model validator carry the location of that model;
    # name the list itself for the cross-field checks on the whole profile.
    loc = tuple(err.get("loc", ()))
    msg = str(err.get("msg", ""))
    if not loc:
        if "scheduled_faults" in msg:
            return "scheduled_faults"
        if "service_faults" in msg:
            return "service_faults"
        if "fault" in msg:
            return "faults"
        if "model id" in msg:
            return "models"
    return _dotted(loc)


def parse_profile(data: object, path: str | Path = "<profile>") -> Profile:
    """Validate already-parsed YAML/JSON data; raises ProfileError naming the first bad key."""
    if not isinstance(data, dict):
        raise ProfileError(path, "(document)", "a profile must be a mapping")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            message = "unknown key"
        raise ProfileError(path, _error_key(err), message) from None


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile file; raises ProfileError(path, key, message)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(path, "(file)", f"cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ProfileError(path, "(document)", f"invalid YAML{where}") from None
    return parse_profile(data, path)
