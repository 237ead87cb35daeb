"""Rebuilding a `Pod` handle from inspected containers and the pod dir, e.g. after an API restart.

Everything a handle holds is recoverable: names and ids from labels, the API
key from the workload's environment, the workspace and mock log from the binds,
the kernel connection from the ipc dir.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from worksample.sandbox import layout
from worksample.sandbox.backend import Pod
from worksample.sandbox.spec import LABEL_DEADLINE, LABEL_POD_DIR, LABEL_ROLE


def pod_from_containers(pod_id: str, inspected: list[dict]) -> Pod:
    """A Pod for `pod_id` from the `docker inspect` dicts of its containers."""
    by_role = {c["Config"]["Labels"].get(LABEL_ROLE, "?"): c for c in inspected}
    any_labels = inspected[0]["Config"]["Labels"]
    pod_dir = Path(any_labels.get(LABEL_POD_DIR, ""))
    workload = by_role.get("workload", {})
    binds = _binds(workload) | _binds(by_role.get("mock", {}))
    env = dict(item.split("=", 1) for item in workload.get("Config", {}).get("Env") or [] if "=" in item)
    ipc_dir = Path(binds["/ipc"]) if "/ipc" in binds else None
    workspace = Path(binds.get("/workspace", pod_dir / "workspace"))
    return Pod(
        id=pod_id,
        dir=pod_dir,
        containers={role: c["Name"].lstrip("/") for role, c in by_role.items()},
        api_key=env.get("OPENAI_API_KEY", ""),
        deadline=layout.read_deadline(pod_dir) or int(any_labels.get(LABEL_DEADLINE, "0") or 0),
        workspace=workspace,
        ipc_dir=ipc_dir,
        mock_log_dir=Path(binds["/mock/log"]) if "/mock/log" in binds else None,
        connection=_connection(ipc_dir),
        ephemeral_workspace=workspace.parent == pod_dir,
        labels={k: v for k, v in any_labels.items() if not k.startswith("worksample.") or k == "worksample.test"},
    )


def _binds(inspected: dict) -> dict[str, str]:
    """Container path -> host path of a container's bind mounts."""
    pairs = (b.split(":") for b in (inspected.get("HostConfig", {}).get("Binds") or []))
    return {parts[1]: parts[0] for parts in pairs if len(parts) >= 2}


def _connection(ipc_dir: Path | None) -> dict | None:
    """The host-side kernel connection info, if the pod runs a kernel."""
    if ipc_dir is None:
        return None
    # The ipc dir belongs to the workload: never follow a link planted there, and trust no field but ports/key.
    try:
        fd = os.open(layout.kernel_file(ipc_dir), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = json.loads(fh.read(4096))
        except ValueError:
            return None
    ports = {name: int(info[name]) for name in layout.KERNEL_PORTS if str(info.get(name, "")).isdigit()}
    if len(ports) != len(layout.KERNEL_PORTS) or not isinstance(info.get("key"), str):
        return None
    return {**ports, "key": info["key"], "transport": "ipc", "ip": str(ipc_dir / "kernel"),
            "signature_scheme": "hmac-sha256", "kernel_name": "python3"}
