"""The reaper: removes pods past their deadline and orphans, found by label.

Everything it needs is on the containers themselves (`worksample.pod`,
`worksample.role`, `worksample.deadline`, `worksample.pod_dir`), so it works
after a platform restart that lost every in-memory handle. Workers run it
periodically; it is idempotent and safe to run from several places at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from worksample.config import get_settings
from worksample.sandbox import layout
from worksample.sandbox.backend import PodBackend, PodInfo

# A pod with a mock but no workload yet is normal for a fraction of a second while it is created.
CREATE_GRACE_S = 120.0


@dataclass(frozen=True)
class Reaped:
    """One pod the reaper removed and why (`deadline` or `orphan`)."""

    pod_id: str
    reason: str


def judge(pod: PodInfo, now: float) -> str | None:
    """Why `pod` should go (`deadline`, `orphan`), or None to keep it."""
    if pod.deadline is None or pod.deadline <= now:
        return "deadline"
    if ("workload" in pod.roles or "grader" in pod.roles) and "mock" not in pod.roles:
        return "orphan"  # half a pod: its network namespace owner is gone
    if "mock" in pod.roles and "workload" not in pod.roles and now - pod.created > CREATE_GRACE_S:
        return "orphan"  # creation died half-way
    return None


def reap(now: float | None = None, backend: PodBackend | None = None) -> list[Reaped]:
    """Remove every pod past its deadline and every half-pod; return what was removed.

    Containers already gone (404) or being removed (409) are fine; other engine
    errors raise, for the job queue to retry.
    """
    from worksample.sandbox import default_backend

    backend = backend or default_backend()
    now = time.time() if now is None else now
    reaped = []
    pods = list(backend.list_pods())
    for pod in pods:
        reason = judge(pod, now)
        if reason is not None:
            backend.remove(pod.id)
            reaped.append(Reaped(pod.id, reason))
    reaped += sweep_pod_dirs({pod.id for pod in pods}, now)
    return reaped


def sweep_pod_dirs(live: set[str], now: float) -> list[Reaped]:
    """Remove pod dirs of this platform that no container refers to (a create that died half-way).

    Only this platform's roots are swept (the data dir's `pods/` and its own
    short root): other platforms on the machine own the rest of /tmp/wspods.
    """
    swept = []
    for root in (get_settings().resolved_data_dir / "pods", layout.short_root()):
        for path in root.iterdir() if root.is_dir() else ():
            if path.name in live or now - path.stat().st_mtime < CREATE_GRACE_S:
                continue
            layout.remove_pod_dir(path)
            swept.append(Reaped(path.name, "no containers"))
    return swept
