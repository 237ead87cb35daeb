"""What a pod is made of: limits, mounts and the specs the engine turns into containers.

Everything here is plain data with validation; nothing talks to Docker. Limits
given by a user (`--memory 512m`) are parsed here so a nonsense value fails
before any container exists, with `UsageError` naming the field.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from worksample.errors import UsageError
from worksample import units

WORKLOAD_UID = 1000
MOCK_UID = 1001  # differs from the workload's so neither can read the other's files
GRADER_UID = 1002
MOCK_PORT = 8080
SERVICE_PORT = 8081  # a task service (DESIGN §14), served by the mock container
LABEL_POD = "worksample.pod"
LABEL_ROLE = "worksample.role"
LABEL_DEADLINE = "worksample.deadline"
LABEL_POD_DIR = "worksample.pod_dir"
LABEL_DATA_DIR = "worksample.data_dir"  # which platform (data dir) owns the pod: engines may be shared
ROLES = ("mock", "workload", "grader")



def parse_size(text: str | int, field_name: str, minimum: int = 1) -> int:
    """Parse `512m`, `2g`, `1024` (bytes) into bytes (the task files' grammar); raise UsageError naming the field."""
    try:
        return units.parse_size(text, minimum=minimum)
    except ValueError as exc:
        raise UsageError(f"{field_name}: {exc}") from None


def parse_cpus(value: float | str, field_name: str = "cpus") -> float:
    """Validate a CPU quota (fractions allowed, e.g. 0.5); raise UsageError if not positive."""
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{field_name}: {value!r} is not a number of CPUs (example: 1 or 0.5)") from None
    if not 0.01 <= cpus <= 64:
        raise UsageError(f"{field_name}: {value!r} must be between 0.01 and 64")
    return cpus


def parse_count(value: int | str, field_name: str, minimum: int = 1, maximum: int = 1 << 20) -> int:
    """Validate a positive integer limit such as pids; raise UsageError otherwise."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{field_name}: {value!r} is not a whole number") from None
    if not minimum <= count <= maximum:
        raise UsageError(f"{field_name}: {value!r} must be between {minimum} and {maximum}")
    return count


@dataclass(frozen=True)
class Limits:
    """Resource limits of a workload container (and, scaled down, of its pod mates)."""

    memory: int = 512 * 1024**2
    cpus: float = 1.0
    pids: int = 128
    tmp: int = 64 * 1024**2  # tmpfs /tmp, counted against the memory limit
    disk: int = 256 * 1024**2  # workspace quota
    nofile: int = 1024
    log_bytes: int = 1024**2  # container log cap (json-file max-size, one file)

    def __post_init__(self) -> None:
        for name in ("memory", "pids", "tmp", "disk", "nofile", "log_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise UsageError(f"limits.{name}: {value!r} must be a positive whole number (bytes or count)")
        if not isinstance(self.cpus, (int, float)) or self.cpus <= 0:
            raise UsageError(f"limits.cpus: {self.cpus!r} must be a positive number")

    @classmethod
    def parse(cls, memory: str = "512m", cpus: str | float = 1, pids: str | int = 128, disk: str = "256m",
              tmp: str = "64m") -> "Limits":
        """Build limits from user strings, raising UsageError for nonsense values."""
        return cls(
            memory=parse_size(memory, "memory", minimum=16 * 1024**2),
            cpus=parse_cpus(cpus),
            pids=parse_count(pids, "pids", minimum=8, maximum=32768),
            disk=parse_size(disk, "disk", minimum=8 * 1024**2),
            tmp=parse_size(tmp, "tmp", minimum=1024**2),
        )

    @property
    def fsize(self) -> int:
        """Largest single file a process may write: no more than the workspace holds."""
        return max(self.disk, self.tmp)


@dataclass(frozen=True)
class Mount:
    """A host path bound into one container. Only these host paths ever enter a pod."""

    source: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class MockSpec:
    """The pod's mock LLM: profile (copied into the pod's plan dir), seed, oracle, call-log dir.

    `service`: a task's hidden service.py, served by the mock on 127.0.0.1:8081 (DESIGN §14);
    its log and state go to the call-log dir, which only the mock container mounts.
    """

    profile: Path | None = None
    seed: int = 0
    oracle: Path | None = None
    service: Path | None = None
    log_dir: Path | None = None
    api_key: str = field(default_factory=lambda: "sk-ws-" + secrets.token_hex(16))


@dataclass(frozen=True)
class GraderSpec:
    """The grader container: runs hidden tests over copied-out artifacts, never candidate code."""

    command: list[str]
    image: str = "grader"
    mounts: tuple[Mount, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PodSpec:
    """Everything needed to create one pod.

    `image` is an image name (`notebook`) resolved through `worksample.images`, or a
    full reference containing `:`. `workspace` is a mounted quota dir (see
    `quota.Workspace`); when None the pod gets an ephemeral one of `limits.disk`.
    `kernel=True` makes the workload an ipykernel listening over ipc in `/ipc`.
    """

    command: list[str] | None = None
    image: str = "notebook"
    limits: Limits = Limits()
    timeout: float = 3600.0
    workspace: Path | None = None
    data: Path | None = None
    kernel: bool = False
    ipc: bool = False
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    mock: MockSpec = field(default_factory=MockSpec)
    grader: GraderSpec | None = None

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise UsageError(f"timeout: {self.timeout!r} must be positive")
        if self.command is None and not self.kernel:
            raise UsageError("command: give a command to run or kernel=True")
        for key in self.labels:
            if key.startswith("worksample.") and key.split(".", 1)[1] in ("pod", "role", "deadline", "pod_dir", "data_dir"):
                raise UsageError(f"labels: {key!r} is set by the sandbox itself")

    def deadline(self, now: float | None = None) -> int:
        """Unix time after which the reaper may remove the pod."""
        return int((time.time() if now is None else now) + self.timeout) + 1


def new_pod_id() -> str:
    """A short random pod id (short keeps host ipc socket paths under 107 bytes)."""
    return "p" + secrets.token_hex(5)
