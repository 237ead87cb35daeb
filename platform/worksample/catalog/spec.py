"""The `task.yaml` model (DESIGN §7), with its duration and size types.

Every model forbids unknown keys, so a typo in a task file is an error rather
than a silently ignored setting. Durations are written `2h`, `90m`, `15m`,
`30s` (or a bare number of seconds) and parsed into `timedelta`; sizes are
written `2g`, `512m`, `64k` (or a bare number of bytes) and parsed into bytes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import Enum
from typing import Annotated

from pathlib import Path

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr, WithJsonSchema

from worksample.units import SIZE_UNITS, parse_size

# Work samples are capped at two hours: the platform refuses longer tasks.
MAX_TIME_LIMIT = timedelta(hours=2)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|m|s)?\s*$")
_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1, None: 1}


def parse_duration(value: object) -> timedelta:
    """Parse `2h`, `90m`, `30s` or a number of seconds; raises ValueError otherwise."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 2h, 90m or 30s")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration like 2h, 90m or 30s")
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest of `2h`, `90m`, `30s` that states `value` exactly."""
    seconds = int(value.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def format_size(value: int) -> str:
    """The largest whole unit that states `value` exactly, e.g. `2g`."""
    for unit in ("t", "g", "m", "k"):
        if value % SIZE_UNITS[unit] == 0:
            return f"{value // SIZE_UNITS[unit]}{unit}"
    return str(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?(h|m|s)?$", "examples": ["2h", "90m", "30s"]}),
]
Size = Annotated[
    int,
    BeforeValidator(parse_size),
    PlainSerializer(format_size, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?[kmgtKMGT]?[bB]?$", "examples": ["2g", "512m"]}),
]
RelPath = Annotated[str, Field(min_length=1, description="A path inside the task folder, relative to it")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$", description="lower-case, digits and dashes")]


class Track(str, Enum):
    """What kind of engineering a task samples."""

    llm_engineering = "llm-engineering"
    ml_engineering = "ml-engineering"
    mlops = "mlops"
    agentic = "agentic"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Strict):
    """The sandbox's share of the machine during the attempt and the grading run."""

    cpus: float = Field(1, gt=0, le=16, description="CPU cores")
    memory: Size = Field(2 * 1024**3, description="memory limit, e.g. 2g")
    pids: int = Field(256, ge=16, le=4096, description="process limit")
    disk: Size = Field(512 * 1024**2, description="workspace size limit, e.g. 512m")


class Workspace(_Strict):
    """What the candidate gets: the starter files, the data, the notebook to run."""

    starter: RelPath = Field(description="folder copied to /workspace")
    data: RelPath = Field(description="folder mounted read-only at /workspace/data")
    entrypoint: str = Field(min_length=1, description="notebook inside starter/ that grading runs")


class MockLlm(_Strict):
    """The mock LLM API beside the sandbox: its profiles and the task's oracle."""

    attempt_profile: RelPath = Field(description="profile while the candidate works")
    grading_profile: RelPath = Field(description="harsher profile for the grading run (hidden)")
    oracle: RelPath | None = Field(None, description="hidden oracle.py deciding answers")
    # Task services (DESIGN §14, issue 16): the mock container serves it on 127.0.0.1:8081.
    service: RelPath | None = Field(None, description="hidden service.py: an ASGI app served on 127.0.0.1:8081 in the pod")


class Grading(_Strict):
    """How a submission is graded."""

    timeout: Duration = Field(description="limit on the whole grading run (on each, with rerun), e.g. 15m")
    suite: RelPath = Field(description="folder of hidden pytest checks")
    include: list[str] = Field(default_factory=list, description="reusable suites from graders/suites/")
    pass_threshold: float = Field(ge=0, le=100, description="percent of max score needed to pass")
    # Issue 15: a second run for checks that compare runs (e.g. reproducible predictions). Strict: a YAML
    # boolean, so a typo like `rerun: "no"` (a string) is refused instead of read as true.
    rerun: bool = Field(False, strict=True, description=(
        "run the entrypoint a second time in a fresh pod (fresh kernel and copy of the submission, same hidden "
        "data); checks read it through the fixtures rerun and rerun_outputs. Each run may take `timeout`"))

    @property
    def runs(self) -> int:
        """How many times grading runs the entrypoint: 2 with `rerun`, else 1."""
        return 2 if self.rerun else 1


class RubricItem(_Strict):
    """A criterion a human reviewer scores."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=1)
    points: int = Field(gt=0, le=1000, description="maximum points, > 0")


class TaskSpec(_Strict):
    """A whole `task.yaml`."""

    slug: Slug
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    track: Track
    time_limit: Duration = Field(description="hard maximum 2h")
    image: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="sandbox image name, e.g. notebook")
    resources: Resources = Field(default_factory=Resources)
    workspace: Workspace
    mock_llm: MockLlm | None = None
    grading: Grading
    rubric: list[RubricItem] = Field(default_factory=list)

    # Set by the loader: the folder the task was read from.
    _folder: Path | None = PrivateAttr(None)

    @property
    def folder(self) -> Path | None:
        """The task folder this task was loaded from (None if built in memory)."""
        return self._folder

    @property
    def time_limit_s(self) -> int:
        """The time limit in whole seconds."""
        return int(self.time_limit.total_seconds())


def task_schema() -> dict:
    """The JSON Schema of `task.yaml`, as `worksample task schema` prints it."""
    schema = TaskSpec.model_json_schema(mode="validation")
    schema["title"] = "worksample task.yaml"
    return schema
