"""What is running: queues, workers, failed jobs and the platform's pods, for /admin/operations.

Pods come from the sandbox backend (found by label) joined with the attempts
table, so each attempt pod shows its attempt, age, the database deadline (the
one that counts, extensions included) and its memory. Memory is read from the
container's cgroup on this host; on an API replica without the engine's host
it is unknown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from worksample.db import session_scope
from worksample.db.models import Attempt, AttemptStatus
from worksample.errors import WorksampleError

CGROUP_FILES = (  # cgroup v1 (cgroupfs), v2 (cgroupfs), v2 (systemd)
    "/sys/fs/cgroup/memory/docker/{id}/memory.usage_in_bytes",
    "/sys/fs/cgroup/docker/{id}/memory.current",
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.current",
)


@dataclass(frozen=True)
class PodRow:
    """One pod as the operations page shows it."""

    id: str
    kind: str  # attempt | grading
    attempt_id: str | None
    candidate: str | None
    task: str | None
    age_s: float
    deadline: datetime | None
    memory_bytes: int | None
    states: dict[str, str] = field(default_factory=dict)


@dataclass
class Operations:
    """Everything the operations page shows; `errors` says which part could not be read and why."""

    queues: list = field(default_factory=list)
    workers: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    pods: list[PodRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def container_memory(container_id: str) -> int | None:
    """Bytes of memory a container uses now, from its cgroup on this host; None when not readable here."""
    for pattern in CGROUP_FILES:
        try:
            return int(Path(pattern.format(id=container_id)).read_text().strip())
        except (OSError, ValueError):
            continue
    return None


def _attempts_by_pod() -> dict[str, tuple[str, str, str, datetime]]:
    with session_scope() as db:
        rows = db.scalars(select(Attempt).where(Attempt.status == AttemptStatus.running, Attempt.pod_id.is_not(None)))
        return {r.pod_id: (r.id, r.invitation.candidate_name, r.invitation.task.slug, r.deadline) for r in rows}


def pods() -> list[PodRow]:
    """The platform's pods, attempt pods first, oldest first. Raises DockerUnavailable."""
    from worksample.sandbox import default_backend

    attempts = _attempts_by_pod()
    now = time.time()
    rows = []
    for info in default_backend().list_pods():
        found = attempts.get(info.id)
        memory = [container_memory(cid) for cid in info.roles.values()]
        known = [m for m in memory if m is not None]
        deadline = found[3] if found else (datetime.fromtimestamp(info.deadline, timezone.utc) if info.deadline else None)
        rows.append(PodRow(id=info.id, kind="attempt" if found else "grading", attempt_id=found[0] if found else None,
                           candidate=found[1] if found else None, task=found[2] if found else None,
                           age_s=max(0.0, now - info.created), deadline=deadline,
                           memory_bytes=sum(known) if known else None, states=dict(info.states)))
    rows.sort(key=lambda r: (r.kind != "attempt", -r.age_s))
    return rows


def _part(ops: Operations, name: str, func) -> None:
    try:
        setattr(ops, name, func())
    except WorksampleError as exc:  # Redis or Docker away: show the rest, say what is missing
        ops.errors[name] = str(exc)


def operations() -> Operations:
    """Queues, workers, failed jobs and pods; a part whose service is down is empty with its reason."""
    from worksample.jobs import operations as queues

    ops = Operations()
    _part(ops, "queues", queues.queue_depths)
    _part(ops, "workers", queues.workers)
    _part(ops, "failed", queues.failed_jobs)
    _part(ops, "pods", pods)
    return ops
