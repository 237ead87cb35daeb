"""The attempt's pod: a persisted quota'd workspace, and JupyterLab on a unix socket inside it.

Host layout per attempt (`<data>/attempts/<attempt_id>/`):
  workspace.img, workspace/   the ext4 image and its mount: the candidate's /workspace
  mock-log/                   the mock's call log, kept across the attempt's pods
  pod.json                    which pod serves the attempt: its socket and Jupyter token (0600)
  seeded                      marker: starter files were copied in once

JupyterLab's configuration (written into the pod's ipc folder after the pod is
created, the token scrubbed once the server answers) is `worksample.workspace.jupyter`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import yaml

from worksample.catalog.spec import TaskSpec
from worksample.config import get_settings
from worksample.errors import InfrastructureError
from worksample.workspace.jupyter import WAIT_THEN_START, base_url, scrub_secrets, write_jupyter_config

log = logging.getLogger(__name__)
LABEL_ATTEMPT = "worksample.attempt"
READY_TIMEOUT = 90.0
# The pod outlives the deadline by this much so that, if every platform process is down at
# the deadline, the reaper still removes it; writes after the deadline never count anyway.
POD_GRACE_S = 900


def extra_labels() -> dict[str, str]:
    """Labels added to every attempt pod (setting `pod_labels`, WORKSAMPLE_POD_LABELS; tests set worksample.test=1)."""
    settings = get_settings()
    return settings.label_map(settings.pod_labels)


class PodNotReady(InfrastructureError):
    """JupyterLab in the attempt's pod did not come up."""


@dataclass(frozen=True)
class Jupyter:
    """How the platform reaches an attempt's JupyterLab."""

    attempt_id: str
    pod_id: str
    sock: str
    token: str


def attempt_dir(attempt_id: str) -> Path:
    """The attempt's host dir (created on first use)."""
    return get_settings().private_dir("attempts", attempt_id)


def workspace_path(attempt_id: str) -> Path:
    """Where the attempt's workspace is mounted on the host."""
    return attempt_dir(attempt_id) / "workspace"


@contextmanager
def attempt_lock(attempt_id: str):
    """Serialise pod and submit work on one attempt across threads and processes on this host."""
    with open(attempt_dir(attempt_id) / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_jupyter(attempt_id: str) -> Jupyter | None:
    """The attempt's JupyterLab as recorded in pod.json, or None (no Docker call)."""
    path = attempt_dir(attempt_id) / "pod.json"
    try:
        data = json.loads(path.read_text())
        return Jupyter(attempt_id, data["pod_id"], data["sock"], data["token"])
    except (OSError, ValueError, KeyError):
        return None


def ensure_pod(attempt_id: str, task: TaskSpec, deadline: datetime, cold: bool = True) -> tuple[Jupyter | None, str]:
    """The attempt's JupyterLab and how it was found: `running` (its pod), `warm` (the pool pod claimed for it
    at Start) or `cold` (a pod started now; blocks until it answers). With `cold=False`, (None, "cold") instead
    of starting one: the caller first waits for a slot of the host's start queue (`worksample.workspace.starts`).

    The caller holds `attempt_lock(attempt_id)` (and checked under it that the attempt still runs),
    so a revoke or a Submit cannot slip in between. Raises PodNotReady, DockerUnavailable, ImageMissing.
    """
    current = read_jupyter(attempt_id)
    if current is not None and pod_running(current.pod_id) and jupyter_answers(current):
        return current, "running"
    if current is not None:
        _remove_pod(current.pod_id)
        (attempt_dir(attempt_id) / "pod.json").unlink(missing_ok=True)  # the page shows "starting", not a dead pod
    from worksample.workspace import warmpool  # it builds on this module

    adopted = warmpool.adopt(attempt_id, task, deadline)  # a pool pod claimed for this attempt at Start
    if adopted is not None:
        return adopted, "warm"
    return (_start_pod(attempt_id, task, deadline), "cold") if cold else (None, "cold")


def reap_after(deadline: datetime) -> int:
    """When the reaper may remove the attempt's pod (unix seconds): the deadline plus POD_GRACE_S."""
    return int(deadline.timestamp()) + POD_GRACE_S


def set_pod_deadline(attempt_id: str, deadline: datetime) -> int:
    """Tell the reaper the attempt's new deadline for every pod it has (labels cannot change); how many pods."""
    from worksample.sandbox import default_backend, extend_deadline, find_pod

    moved = 0
    for info in default_backend().list_pods({LABEL_ATTEMPT: attempt_id}):
        pod = find_pod(info.id)
        if pod is not None:
            extend_deadline(pod, reap_after(deadline))
            moved += 1
    return moved


def pod_running(pod_id: str) -> bool:
    """True if the pod's workload container is running."""
    from worksample.sandbox import default_backend

    for info in default_backend().list_pods({"worksample.pod": pod_id}):
        return info.states.get("workload") == "running" and info.states.get("mock") == "running"
    return False


def _start_pod(attempt_id: str, task: TaskSpec, deadline: datetime) -> Jupyter:
    """1. workspace, 2. starter files, 3. pod with JupyterLab answering, 4. record."""
    workspace = open_attempt_workspace(attempt_id, task)
    seed_starter(attempt_id, task, workspace)
    jupyter = launch_jupyter(attempt_id, task, workspace, max(60.0, reap_after(deadline) - time.time()))
    write_pod_json(attempt_id, jupyter)
    return jupyter


def launch_jupyter(attempt_id: str, task: TaskSpec, workspace: Path, timeout_s: float,
                   labels: dict[str, str] | None = None) -> Jupyter:
    """Create the attempt's pod on `workspace` and block until its JupyterLab answers (its token then scrubbed).

    `timeout_s` is the pod's life before the reaper may remove it; `labels` are added to the pod's.
    The pod is removed if anything fails. Raises PodNotReady, DockerUnavailable, ImageMissing.
    """
    from worksample.sandbox import create_pod, remove

    pod = create_pod(_pod_spec(attempt_id, task, timeout_s, workspace, labels or {}))
    try:
        jupyter = Jupyter(attempt_id, pod.id, str(pod.ipc_dir / "jupyter.sock"), secrets.token_hex(32))
        config = write_jupyter_config(pod.ipc_dir, attempt_id, jupyter.token)
        (config / "go").touch()
        wait_ready(jupyter, pod.id)
        scrub_secrets(config)
    except BaseException:
        remove(pod)
        raise
    return jupyter


def open_attempt_workspace(attempt_id: str, task: TaskSpec) -> Path:
    """Mount (creating on first use) the attempt's quota'd workspace; return its host path."""
    from worksample.sandbox import open_workspace

    folder = attempt_dir(attempt_id)
    return open_workspace(folder / "workspace.img", folder / "workspace", task.resources.disk).path


def seed_starter(attempt_id: str, task: TaskSpec, workspace: Path) -> None:
    """Copy the task's starter files into the workspace, once per attempt (never over the candidate's work)."""
    from worksample.sandbox.files import copy_in, host_path

    marker = attempt_dir(attempt_id) / "seeded"
    if marker.exists():
        return
    starter = Path(task.folder) / task.workspace.starter
    if starter.is_dir():
        copy_in(starter, host_path(workspace, "/workspace"))
    brief = Path(task.folder) / "README.md"  # starters say "Read README.md first": the brief goes in too
    if brief.is_file() and not (starter / "README.md").exists():
        copy_in(brief, host_path(workspace, "/workspace"))
    marker.touch()


def _pod_spec(attempt_id: str, task: TaskSpec, timeout_s: float, workspace: Path, labels: dict[str, str]):
    from worksample.sandbox import Limits, MockSpec, PodSpec

    folder = Path(task.folder)
    res = task.resources
    mock = task.mock_llm
    profile = folder / mock.attempt_profile if mock else None
    data = folder / task.workspace.data
    log_dir = attempt_dir(attempt_id) / "mock-log"
    return PodSpec(
        command=["sh", "-c", WAIT_THEN_START],
        image=task.image,
        limits=Limits(memory=res.memory, cpus=res.cpus, pids=res.pids, disk=res.disk),
        timeout=timeout_s,
        workspace=workspace,
        data=data if data.is_dir() else None,
        ipc=True,
        env={"JUPYTER_CONFIG_DIR": "/ipc/jupyter", "JUPYTER_RUNTIME_DIR": "/ipc/jupyter/runtime"},
        labels={**extra_labels(), **labels, LABEL_ATTEMPT: attempt_id},
        mock=MockSpec(profile=profile, seed=_profile_seed(profile),
                      oracle=folder / mock.oracle if mock and mock.oracle else None,
                      service=folder / mock.service if mock and mock.service else None,
                      log_dir=log_dir, api_key=_api_key(attempt_id)),
    )


def _api_key(attempt_id: str) -> str:
    from worksample.workspace.access import attempt_api_key

    return attempt_api_key(attempt_id)


def _profile_seed(profile: Path | None) -> int:
    if profile is None:
        return 0
    try:
        data = yaml.safe_load(profile.read_text())
    except (OSError, yaml.YAMLError):
        return 0
    seed = data.get("seed", 0) if isinstance(data, dict) else 0
    return seed if isinstance(seed, int) else 0


def jupyter_answers(jupyter: Jupyter, timeout: float = 2.0) -> bool:
    """True if JupyterLab answers an authenticated status request on its socket."""
    if not os.path.exists(jupyter.sock):
        return False
    transport = httpx.HTTPTransport(uds=jupyter.sock, verify=False)  # plain HTTP on a socket: no CA bundle to load (50 ms)
    try:
        with httpx.Client(transport=transport, timeout=timeout) as client:
            resp = client.get(f"http://localhost{base_url(jupyter.attempt_id)}api/status",
                              headers={"Authorization": f"token {jupyter.token}"})
        return resp.status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(jupyter: Jupyter, pod_id: str, timeout: float = READY_TIMEOUT) -> None:
    """Poll until JupyterLab answers; raise PodNotReady (with the pod id) after `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if jupyter_answers(jupyter):
            return
        time.sleep(delay)
        delay = min(delay * 1.3, 0.25)
    raise PodNotReady(f"JupyterLab in pod {pod_id} did not answer within {timeout:.0f}s")


def write_pod_json(attempt_id: str, jupyter: Jupyter) -> None:
    """Record which pod serves the attempt (0600: it holds the Jupyter token); replaced atomically."""
    path = attempt_dir(attempt_id) / "pod.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"pod_id": jupyter.pod_id, "sock": jupyter.sock, "token": jupyter.token}, fh)
    tmp.rename(path)


def _remove_pod(pod_id: str) -> None:
    from worksample.sandbox import remove

    remove(pod_id)


def unmount_workspace(attempt_id: str) -> None:
    """Unmount the attempt's workspace (its image, and so the work, is kept); a busy mount is detached lazily."""
    from worksample.sandbox import Workspace, close_workspace

    folder = attempt_dir(attempt_id)
    try:
        close_workspace(Workspace(folder / "workspace.img", folder / "workspace"))
    except Exception as exc:  # best effort: the image is what keeps the work; a later mount still works
        log.warning("attempt %s: unmount failed: %s", attempt_id, exc)


def stop_pod(attempt_id: str) -> None:
    """Stop and remove every pod of the attempt (the workspace stays); idempotent."""
    from worksample.sandbox import default_backend

    backend = default_backend()
    for info in backend.list_pods({LABEL_ATTEMPT: attempt_id}):
        backend.remove(info.id)
    (attempt_dir(attempt_id) / "pod.json").unlink(missing_ok=True)
