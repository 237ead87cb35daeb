"""Host-side state of a pod: its directory, the mock's plan and log, the ipc dir, the workspace.

A pod's host dir holds only what the platform made for it. The ipc dir sits in
it, so the pod dir must stay short: ZMQ ipc sockets are unix sockets, whose
path is limited to 107 bytes. When the data dir is deep, pods go under
`/tmp/wspods/<key>` instead, where the key is a hash of the data dir: each
platform on the machine has its own short root, so its reaper can sweep it
without touching another platform's pods.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import uuid
from pathlib import Path

import yaml

from worksample.config import get_settings
from worksample.sandbox import quota
from worksample.sandbox.spec import MOCK_UID, WORKLOAD_UID, Mount, PodSpec

SHORT_ROOT = Path("/tmp/wspods")
SOCKET_PATH_MAX = 100  # unix sockets allow 107 bytes; keep a margin
KERNEL_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
# The ipc dir holds sockets, the kernel's connection file and JupyterLab's config and runtime
# files: a few KiB. The sandbox can write there, so it gets a quota like the workspace.
IPC_QUOTA = 16 * 1024**2
IPC_INODES = 4096

# Used when a pod is made without a fault plan (e.g. `worksample sandbox run`): no faults.
DEFAULT_PROFILE = {
    "seed": 0,
    "models": [{"id": "atlas-mini", "input_per_mtok": 0.15, "output_per_mtok": 0.60, "context_window": 16000}],
    "rate_limits": {"rpm": 600, "tpm": 400000},
    "budget_usd": 5.0,
    "latency": {"p50_ms": 50, "p95_ms": 200},
    "faults": [],
}


def short_root() -> Path:
    """This platform's own directory under SHORT_ROOT, keyed by its data dir."""
    key = hashlib.sha256(str(get_settings().resolved_data_dir).encode()).hexdigest()[:8]
    return SHORT_ROOT / key


def pod_roots() -> list[Path]:
    """Every directory under which pod dirs may live (the reaper only deletes inside these).

    SHORT_ROOT itself stays one: pods made before short roots were per platform live there.
    """
    return [get_settings().resolved_data_dir / "pods", short_root(), SHORT_ROOT]


def make_pod_dir(pod_id: str) -> Path:
    """Create the pod's host dir, under the data dir when its ipc paths stay short enough."""
    preferred = get_settings().resolved_data_dir / "pods" / pod_id
    longest_socket = preferred / "ipc" / "kernel-5"
    root = preferred if len(str(longest_socket)) <= SOCKET_PATH_MAX else short_root() / pod_id
    root.mkdir(parents=True, mode=0o711)
    return root


def mock_mounts(pod_dir: Path, spec: PodSpec) -> tuple[list[Mount], list[str], Path]:
    """Mounts and serve-arguments of the mock; returns (mounts, args, log_dir)."""
    plan = pod_dir / "mock" / "plan"
    plan.mkdir(parents=True)
    if spec.mock.profile is not None:
        shutil.copyfile(spec.mock.profile, plan / "profile.yaml")
    else:
        (plan / "profile.yaml").write_text(yaml.safe_dump(DEFAULT_PROFILE))
    os.chmod(plan / "profile.yaml", 0o644)
    log_dir = spec.mock.log_dir or pod_dir / "mock" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    os.chown(log_dir, MOCK_UID, MOCK_UID)
    mounts = [Mount(plan, "/mock/plan"), Mount(log_dir, "/mock/log", read_only=False)]
    args = ["--profile", "/mock/plan/profile.yaml", "--host", "127.0.0.1", "--port", "8080",
            "--log", "/mock/log/calls.jsonl", "--seed", str(spec.mock.seed), "--api-key", spec.mock.api_key]
    if spec.mock.oracle is not None:
        mounts.append(Mount(spec.mock.oracle.resolve().parent, "/mock/task"))
        args += ["--oracle", f"/mock/task/{spec.mock.oracle.name}"]
    if spec.mock.service is not None:
        # The service follows the oracle's path: hidden task files, mounted into the mock alone.
        service = spec.mock.service.resolve()
        if spec.mock.oracle is not None and service.parent == spec.mock.oracle.resolve().parent:
            args += ["--service", f"/mock/task/{service.name}"]
        else:
            mounts.append(Mount(service.parent, "/mock/service"))
            args += ["--service", f"/mock/service/{service.name}"]
    return mounts, args, log_dir


def empty_resolv_conf(pod_dir: Path) -> Path:
    """An empty resolv.conf: no nameserver, so name lookups fail at once inside the pod."""
    path = pod_dir / "resolv.conf"
    path.write_text("")
    os.chmod(path, 0o644)
    return path


def make_ipc_dir(pod_dir: Path) -> Path:
    """The dir bind-mounted at /ipc where the workload (uid 1000) creates its sockets: a tmpfs of IPC_QUOTA."""
    ipc = pod_dir / "ipc"
    ipc.mkdir(mode=0o700)
    quota.mount_tmpfs(ipc, IPC_QUOTA, WORKLOAD_UID, IPC_INODES)
    return ipc


def kernel_file(ipc: Path) -> Path:
    """Host path of the pod's kernel connection file.

    It sits where JupyterLab keeps an attempt's kernel files (`/ipc/jupyter/runtime/kernel-<uuid>.json`),
    so a grading kernel's argv and files look like an attempt's; the uuid is derived from the pod id
    so recovery after a restart finds it again.
    """
    return ipc / "jupyter" / "runtime" / f"kernel-{uuid.uuid5(uuid.NAMESPACE_URL, ipc.parent.name)}.json"


def kernel_file_in_pod(ipc: Path) -> str:
    """The connection file's path inside the pod (what `{connection_file}` in a command becomes)."""
    return "/ipc/" + str(kernel_file(ipc).relative_to(ipc))


def write_kernel_connection(ipc: Path) -> dict:
    """Write the kernel's connection file (ipc transport); return the host-side connection info."""
    info = {name: index for index, name in enumerate(KERNEL_PORTS, start=1)}
    info.update(transport="ipc", ip="/ipc/kernel", key=secrets.token_hex(32),
                signature_scheme="hmac-sha256", kernel_name="python3")
    path = kernel_file(ipc)
    for folder in (path.parent.parent, path.parent):  # jupyter/ and jupyter/runtime/, the workload's
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chown(folder, WORKLOAD_UID, WORKLOAD_UID)
    path.write_text(json.dumps(info))
    os.chown(path, WORKLOAD_UID, WORKLOAD_UID)
    os.chmod(path, 0o600)
    return {**info, "ip": str(ipc / "kernel")}


def make_gate_dir(pod_dir: Path) -> Path:
    """The dir mounted read-only into the workload where `open_gate` puts `mock-ready`."""
    gate = pod_dir / "gate"
    gate.mkdir(mode=0o755)
    return gate


def open_gate(pod_dir: Path) -> None:
    """Let a gated workload command start (the mock is listening)."""
    gate = pod_dir / "gate"
    if gate.is_dir():
        (gate / "mock-ready").touch()


def ephemeral_workspace(pod_dir: Path, size: int) -> quota.Workspace:
    """A throwaway quota'd workspace inside the pod dir, deleted with the pod."""
    return quota.open_workspace(pod_dir / "workspace.img", pod_dir / "workspace", size)


def remove_pod_dir(pod_dir: Path) -> None:
    """Unmount an ephemeral workspace and delete the pod dir, but only a pod dir of ours."""
    if not any(pod_dir.parent == root for root in pod_roots()) or not pod_dir.name.startswith("p"):
        return
    quota.unmount(pod_dir / "ipc")
    workspace = quota.Workspace(pod_dir / "workspace.img", pod_dir / "workspace")
    quota.close_workspace(workspace)
    if workspace.mounted or os.path.ismount(pod_dir / "ipc"):  # never delete through a mount point
        return
    shutil.rmtree(pod_dir, ignore_errors=True)


def write_deadline(pod_dir: Path, deadline: int) -> None:
    """Record a moved deadline; container labels cannot change, so this file overrides the label."""
    partial = pod_dir / "deadline.partial"
    partial.write_text(str(int(deadline)))
    partial.rename(pod_dir / "deadline")


def read_deadline(pod_dir: str | Path | None) -> int | None:
    """The deadline recorded by `write_deadline`, or None (then the label's holds)."""
    if not pod_dir:
        return None
    try:
        return int((Path(pod_dir) / "deadline").read_text(encoding="ascii")[:20])
    except (OSError, ValueError):
        return None
