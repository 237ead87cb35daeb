"""The warm pool: attempt pods started ahead, JupyterLab answering, for Start to claim (DESIGN §15).

Late binding, and why it is done this way. What makes a pod an attempt's pod
is fixed when its processes start: JupyterLab's base URL is `/w/<attempt_id>/`
(embedded in every page it serves), the mock's API key is a process argument,
the workspace is a bind mount, the task's data a read-only mount and the fault
plan a file the mock reads at start. Rather than restart any of that at claim
time (which is the cost the pool exists to avoid), each pool pod is made for
an attempt id *reserved* ahead: its key (derived from the id), base URL,
workspace (`attempts/<id>/`, the quota'd image the attempt keeps), mock log
and labels are the attempt's own from the first second. Start claims a pod and
creates the attempt row *with that id*; only what depends on the attempt and
not on its id is bound at claim: the starter files are copied in (so an edited
starter is never stale) and the reaper deadline moves from the pool's to the
attempt's. A reserved id has no attempt row until claimed, so an unclaimed pod
grants nothing to anyone.

A pool is per task (its image, data, fault plan and limits; the task's content
version is in the key, so an edited task never gets a stale pod), of size
`WORKSAMPLE_WARM_POOL`, per host (pods live on this host's engine and data dir).

State, in `<data>/pool/` (one JSON record per pod, named `<key>.<attempt_id>.json`):
  filling/    written before a pod is made, removed once it is ready or cleaned
  ready/      claimable; a claim is an atomic rename into claimed/, so one Start wins
  claimed/    taken by a Start; removed when the attempt adopts the pod
  retiring/   taken by the manager to remove (stale, dead, or left by a previous run)

One process per data dir (the holder of `pool/.manager.lock`) fills the pool and
sweeps it; any process may claim. At start the manager removes every pool pod
of a previous run (a restart never leaks them); the reaper removes a pool pod
at its pool deadline like any other, and the manager then cleans its workspace.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from worksample.catalog.spec import TaskSpec
from worksample.config import get_settings
from worksample.errors import WorksampleError

log = logging.getLogger(__name__)

LABEL_POOL = "worksample.pool"
POOL_POD_TTL_S = 6 * 3600  # an unclaimed pod's reaper deadline ...
RETIRE_AFTER_S = 3 * 3600  # ... and the manager replaces it well before that
CLAIM_GRACE_S = 120.0  # a claim is adopted within milliseconds; an older orphan claim is a crash's leftover
FILL_EVERY_S = 5.0  # the manager's pass when no claim woke it
# After a claim, the refill waits this long: the Starts of a burst that missed the pool are in the start queue
# by then, and the refill (which only takes a spare slot) leaves the host's slots to them (C, issues 13/17).
CLAIM_SETTLE_S = 1.5
STATES = ("filling", "ready", "claimed", "retiring")
RESERVED_MARKER = "pool-reserved"  # in attempts/<id>/ from reservation until adoption: a sweep can find it
_wake = threading.Event()


@dataclass(frozen=True)
class Claim:
    """A pool pod taken by one Start: its pool, the attempt id reserved for it and the pod.

    How to reach its JupyterLab stays in the claimed record until `adopt` binds it to the attempt.
    """

    key: str
    attempt_id: str
    pod_id: str


def pool_dir(state: str) -> Path:
    """`<data>/pool/<state>/` (created on first use)."""
    return get_settings().private_dir("pool", state)


def pool_key(slug: str, version: str, image: str) -> str:
    """The pool a pod belongs to: the task, its content version and its image name (safe in a file name)."""
    import hashlib

    return hashlib.sha256(f"{slug}\0{version}\0{image}".encode()).hexdigest()[:16]


def _record_path(state: str, key: str, attempt_id: str) -> Path:
    return pool_dir(state) / f"{key}.{attempt_id}.json"


def _write_record(path: Path, record: dict) -> None:
    """Write a record atomically, 0600 (it holds the Jupyter token)."""
    tmp = path.with_name("." + path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh)
    tmp.rename(path)


def _read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _records(state: str, key: str = "*") -> list[Path]:
    """Records in `state` (of pool `key`), oldest first."""
    paths = list(pool_dir(state).glob(f"{key}.*.json"))
    return sorted(paths, key=lambda p: _mtime(p))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _take(path: Path, state: str) -> Path | None:
    """Move a record into `state` atomically; None if someone else took it first."""
    target = pool_dir(state) / path.name
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    os.utime(target)  # the claim's age counts from now
    return target


# --- claiming (any process) -----------------------------------------------------------------------------------


def claim(slug: str, version: str, image: str) -> Claim | None:
    """Take a ready pod of this task's pool, or None when the pool is empty (Start then makes a cold pod).

    The rename from ready/ to claimed/ is atomic, so two Starts never get the same pod.
    """
    key = pool_key(slug, version, image)
    for path in _records("ready", key):
        taken = _take(path, "claimed")
        if taken is None:
            continue
        _wake.set()  # refill in the background
        record = _read_record(taken)
        if record is None:
            taken.unlink(missing_ok=True)
            continue
        return Claim(key, record["attempt_id"], record["pod_id"])
    return None


def release(found: Claim) -> None:
    """Give back a claimed pod nothing was bound to (a concurrent Start of the same invitation won)."""
    path = _record_path("claimed", found.key, found.attempt_id)
    try:
        os.rename(path, _record_path("ready", found.key, found.attempt_id))
    except FileNotFoundError:
        pass


def adopt(attempt_id: str, task: TaskSpec, deadline: datetime):
    """Bind the pool pod claimed for `attempt_id` to its attempt: starter files, deadline, pod.json.

    Returns the attempt's `Jupyter`, or None when no pod was claimed for it, or the claimed pod no
    longer answers (it is then removed, and the caller starts a cold pod). The caller holds the
    attempt's lock.
    """
    from worksample.workspace import pods

    paths = list(pool_dir("claimed").glob(f"*.{attempt_id}.json"))
    if not paths:
        return None
    record = _read_record(paths[0])
    jupyter = pods.Jupyter(attempt_id, record["pod_id"], record["sock"], record["token"]) if record else None
    if jupyter is None or not pods.jupyter_answers(jupyter):
        log.warning("attempt %s: its pool pod does not answer; starting a cold one", attempt_id)
        pods.stop_pod(attempt_id)
        paths[0].unlink(missing_ok=True)
        return None
    pods.seed_starter(attempt_id, task, pods.workspace_path(attempt_id))
    pods.set_pod_deadline(attempt_id, deadline)
    pods.write_pod_json(attempt_id, jupyter)
    (pods.attempt_dir(attempt_id) / RESERVED_MARKER).unlink(missing_ok=True)
    paths[0].unlink(missing_ok=True)
    return jupyter


# --- filling and sweeping (one process per data dir) ----------------------------------------------------------


def make_pod(task: TaskSpec, version: str, image: str) -> str:
    """Start one pool pod for `task` under a newly reserved attempt id; its id once it is ready to claim.

    Raises what starting a pod raises (nothing is left behind then).
    """
    from worksample.db.models import new_id
    from worksample.workspace import pods

    key = pool_key(task.slug, version, image)
    attempt_id = new_id()
    filling = _record_path("filling", key, attempt_id)
    _write_record(filling, {"attempt_id": attempt_id, "key": key, "task": task.slug})
    try:
        (pods.attempt_dir(attempt_id) / RESERVED_MARKER).touch()
        workspace = pods.open_attempt_workspace(attempt_id, task)
        jupyter = pods.launch_jupyter(attempt_id, task, workspace, POOL_POD_TTL_S, labels={LABEL_POOL: "1"})
        _write_record(_record_path("ready", key, attempt_id), {
            "attempt_id": attempt_id, "key": key, "task": task.slug, "pod_id": jupyter.pod_id,
            "sock": jupyter.sock, "token": jupyter.token, "created": time.time()})
    except BaseException:
        discard(attempt_id)
        raise
    finally:
        filling.unlink(missing_ok=True)
    return attempt_id


def discard(attempt_id: str) -> None:
    """Remove an unclaimed reservation: its pods, its workspace (unmounted, deleted) and its attempt dir."""
    from worksample.workspace import pods

    pods.stop_pod(attempt_id)
    pods.unmount_workspace(attempt_id)
    folder = pods.attempt_dir(attempt_id)
    if os.path.ismount(folder / "workspace"):  # never delete through a mount that did not go away
        log.warning("pool reservation %s: workspace still mounted; kept for the next sweep", attempt_id)
        return
    shutil.rmtree(folder, ignore_errors=True)


def _retire(path: Path) -> None:
    """Take a ready (or stale) record and remove its pod and reservation; a claim that won first keeps it."""
    taken = path if path.parent.name == "retiring" else _take(path, "retiring")
    if taken is None:
        return
    attempt_id = taken.name.split(".")[1]
    discard(attempt_id)
    taken.unlink(missing_ok=True)


def sweep_leftovers() -> int:
    """At the manager's start: remove every pool pod and reservation of a previous run; how many.

    Claimed records whose attempt exists stay (the attempt adopts the pod on its next request).
    """
    removed = 0
    for state in ("filling", "ready", "retiring"):
        for path in _records(state):
            if state == "filling":
                taken = _take(path, "retiring")
                if taken is not None:
                    _retire(taken)
            else:
                _retire(path)
            removed += 1
    removed += _sweep_claims(grace=CLAIM_GRACE_S)
    removed += _sweep_unrecorded_pods()
    return removed


def _sweep_claims(grace: float) -> int:
    """Claims older than `grace` whose attempt never came to be (a crash between claim and row) go."""
    from worksample.db import Attempt, session_scope

    removed = 0
    for path in _records("claimed"):
        if time.time() - _mtime(path) < grace:
            continue
        attempt_id = path.name.split(".")[1]
        with session_scope() as db:
            exists = db.get(Attempt, attempt_id) is not None
        if exists:
            continue  # adopted on its next request, or removed with the attempt's pods at submit/revoke
        taken = _take(path, "retiring")
        if taken is not None:
            _retire(taken)
            removed += 1
    return removed


def _sweep_unrecorded_pods() -> int:
    """Reservations with neither a record nor an attempt row (a crash mid-way through `make_pod` or `discard`)."""
    from worksample.db import Attempt, session_scope

    recorded = {p.name.split(".")[1] for state in STATES for p in _records(state)}
    removed = 0
    for marker in (get_settings().resolved_data_dir / "attempts").glob(f"*/{RESERVED_MARKER}"):
        attempt_id = marker.parent.name
        if attempt_id in recorded:
            continue
        with session_scope() as db:
            if db.get(Attempt, attempt_id) is not None:
                continue
        discard(attempt_id)
        removed += 1
    return removed


def fill_once(size: int) -> int:
    """One manager pass: retire stale or dead pool pods, then start pods until every task's pool has `size`
    ready (one task's failure does not stop the others); how many pods it started.

    Each pod takes a slot of the host's start queue, and only a spare one: while candidates' Starts wait
    in line, the pool waits for the next pass (C, issues 13/17: a refill racing a burst of cold Starts
    for the CPU only slows them)."""
    from worksample.workspace.starts import start_queue

    wanted = _wanted_pools()
    _retire_unwanted(set(wanted))
    _sweep_claims(grace=CLAIM_GRACE_S)
    started = 0
    for key, (task, version, image) in wanted.items():
        try:
            for _ in range(size - len(_records("ready", key))):
                with start_queue().spare_slot(f"pool {task.slug}") as granted:
                    if not granted:
                        return started
                    make_pod(task, version, image)
                started += 1
        except WorksampleError as exc:  # Docker down, image missing, a slow JupyterLab: the next pass retries
            log.warning("warm pool for task %s: %s", task.slug, exc)
    return started


def _wanted_pools() -> dict[str, tuple[TaskSpec, str, str]]:
    """Every catalog task's pool: key -> (task spec, content version, image name)."""
    from sqlalchemy import select

    from worksample.catalog.sync import task_spec
    from worksample.db import Task, session_scope

    wanted = {}
    with session_scope() as db:
        for row in db.scalars(select(Task)):
            try:
                spec = task_spec(row)
            except Exception as exc:  # a task that does not load gets no pool; Start reports it properly
                log.warning("warm pool: task %s skipped: %s", row.slug, exc)
                continue
            image = str((row.spec or {}).get("image", ""))  # as Start reads it (attempts._start_clock_warm)
            wanted[pool_key(row.slug, row.version, image)] = (spec, row.version, image)
    return wanted


def _retire_unwanted(keys: set[str]) -> None:
    """Retire ready pods of tasks no longer in the catalog (or edited), past RETIRE_AFTER_S, or not running."""
    from worksample.sandbox import default_backend

    running = {info.id for info in default_backend().list_pods({LABEL_POOL: "1"})
               if info.states.get("workload") == "running" and info.states.get("mock") == "running"}
    for path in _records("ready"):
        record = _read_record(path) or {}
        stale = time.time() - float(record.get("created", 0)) > RETIRE_AFTER_S
        if path.name.split(".")[0] not in keys or stale or record.get("pod_id") not in running:
            _retire(path)


def pool_size() -> dict[str, int]:
    """Ready pods per task slug on this host (for benchmarks and the admin console)."""
    sizes: dict[str, int] = {}
    for path in _records("ready"):
        slug = (_read_record(path) or {}).get("task", "?")
        sizes[slug] = sizes.get(slug, 0) + 1
    return sizes


# --- the manager, beside the API ------------------------------------------------------------------------------

_manager_lock: int | None = None


def _take_manager_lock() -> bool:
    """Become this data dir's pool manager (a non-blocking flock held until the process ends)."""
    global _manager_lock
    if _manager_lock is not None:
        return True
    fd = os.open(get_settings().resolved_data_dir / "pool" / ".manager.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _manager_lock = fd
    return True


def _drop_manager_lock() -> None:
    global _manager_lock
    if _manager_lock is not None:
        os.close(_manager_lock)
        _manager_lock = None


def shutdown() -> None:
    """A clean stop: remove the ready pods (a claim still in flight keeps its pod)."""
    for path in _records("ready"):
        _retire(path)


async def keep_warm() -> None:
    """The pool manager (the API's lifespan runs it): sweep what a previous run left, then keep every task's
    pool at `WORKSAMPLE_WARM_POOL` pods, refilling at once after a claim. One process per data dir manages;
    others only claim. Ends (removing its ready pods) when cancelled."""
    from starlette.concurrency import run_in_threadpool

    size = get_settings().warm_pool
    if size <= 0 and not (get_settings().resolved_data_dir / "pool").is_dir():
        return  # never had a pool here: nothing to sweep
    pool_dir("ready")
    if not await run_in_threadpool(_take_manager_lock):
        log.info("warm pool: another process on this data dir manages it")
        return
    try:
        try:
            swept = await run_in_threadpool(sweep_leftovers)
            if swept:
                log.info("warm pool: removed %d pod(s) left by a previous run", swept)
        except Exception:  # an engine that is down now is retried by the passes below
            log.exception("warm pool: sweeping leftovers failed")
        while size > 0:
            _wake.clear()
            try:
                await run_in_threadpool(fill_once, size)
            except WorksampleError as exc:  # Docker or the database down: one line per pass, the next retries
                log.warning("warm pool: fill pass failed: %s", exc)
            except Exception:  # the pool must outlive anything else too; the next pass retries
                log.exception("warm pool: fill pass failed")
            await _wait_for_claim(FILL_EVERY_S)
    finally:
        if size > 0:
            try:
                await asyncio.shield(run_in_threadpool(shutdown))
            except Exception:
                log.exception("warm pool: removing ready pods at shutdown failed")
        _drop_manager_lock()


async def _wait_for_claim(timeout: float) -> None:
    """Sleep until a claim in this process wakes the manager (then CLAIM_SETTLE_S more), or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _wake.is_set():
        await asyncio.sleep(0.1)
    if _wake.is_set():
        await asyncio.sleep(CLAIM_SETTLE_S)
