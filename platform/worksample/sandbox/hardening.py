"""The create-arguments of each pod container: every hardening item of DESIGN §4 lives here.

One function per role returns the keyword arguments for `containers.create`.
Keeping them pure (no Docker calls) lets unit tests read the policy directly and
keeps the engine module about orchestration only.
"""

from __future__ import annotations

from typing import Any

from docker.types import LogConfig, Ulimit

from worksample.config import get_settings
from worksample.sandbox.spec import (
    LABEL_DATA_DIR,
    GRADER_UID,
    LABEL_DEADLINE,
    LABEL_POD,
    LABEL_POD_DIR,
    LABEL_ROLE,
    MOCK_PORT,
    MOCK_UID,
    WORKLOAD_UID,
    Limits,
    Mount,
)

# Small, bounded limits for the mock and grader: they run our code, not the candidate's.
MOCK_LIMITS = Limits(memory=256 * 1024**2, cpus=1.0, pids=64, tmp=16 * 1024**2, disk=16 * 1024**2)

# Placeholder mock used only while the mockllm image is not built: answers every GET/POST
# with 503 so clients see "mock not available" instead of a connection refusal.
PLACEHOLDER_MOCK = (
    "import http.server as h\n"
    "class H(h.BaseHTTPRequestHandler):\n"
    "    def _r(self):\n"
    "        b=b'{\"error\":{\"message\":\"mock LLM image not built\",\"type\":\"server_error\",\"param\":null,\"code\":null}}'\n"
    "        self.send_response(503);self.send_header('content-type','application/json')\n"
    "        self.send_header('content-length',str(len(b)));self.end_headers();self.wfile.write(b)\n"
    "    do_GET=do_POST=_r\n"
    "    def log_message(self,*a): pass\n"
    f"h.ThreadingHTTPServer(('127.0.0.1',{MOCK_PORT}),H).serve_forever()\n"
)


def labels_for(pod_id: str, role: str, deadline: int, pod_dir: str, extra: dict[str, str]) -> dict[str, str]:
    """The labels by which the reaper finds a pod's containers, also after a restart."""
    return {**extra, LABEL_POD: pod_id, LABEL_ROLE: role, LABEL_DEADLINE: str(deadline), LABEL_POD_DIR: pod_dir,
            LABEL_DATA_DIR: str(get_settings().resolved_data_dir)}


def _common(limits: Limits, uid: int) -> dict[str, Any]:
    """Hardening shared by every container of a pod."""
    return {
        "user": f"{uid}:{uid}",
        "cap_drop": ["ALL"],
        # Docker's default seccomp profile applies unless disabled; we never pass seccomp=unconfined.
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        "privileged": False,
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={limits.tmp},mode=1777"},
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,  # equal: no swap to hide in
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        "ulimits": [
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            Ulimit(name="fsize", soft=limits.fsize, hard=limits.fsize),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "init": True,  # docker-init reaps zombies and forwards signals
        "ipc_mode": "private",
        "shm_size": min(limits.tmp, 64 * 1024**2),
        # Bounded logs: two json files of log_bytes/2 (with one file, following readers break on rotation).
        "log_config": LogConfig(type="json-file", config={"max-size": str(limits.log_bytes // 2), "max-file": "2"}),
        "oom_score_adj": 800,  # if the host itself runs short, sandboxes die first
        "environment": {"HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"},
        "detach": True,
        "stdin_open": False,
        "tty": False,
    }


def _binds(mounts: list[Mount]) -> dict[str, dict[str, str]]:
    return {str(m.source): {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in mounts}


def mock_kwargs(*, image: str, command: list[str], name: str, labels: dict[str, str], mounts: list[Mount],
                resolv_conf: str) -> dict[str, Any]:
    """Create-arguments of the pod's mock container: alone with its plan and log, no network."""
    kwargs = _common(MOCK_LIMITS, MOCK_UID)
    kwargs.update(
        image=image,
        entrypoint=command[:1],  # explicit: the image's own entrypoint must not prefix ours
        command=command[1:],
        name=name,
        labels=labels,
        network_mode="none",  # the pod's namespace: loopback only, no route, no DNS
        hostname="sandbox",
        volumes=_binds([*mounts, Mount(source=resolv_conf, target="/etc/resolv.conf", read_only=True)]),
        working_dir="/tmp",
    )
    return kwargs


def workload_kwargs(*, image: str, command: list[str], name: str, mock_name: str, labels: dict[str, str],
                    limits: Limits, mounts: list[Mount], env: dict[str, str], api_key: str) -> dict[str, Any]:
    """Create-arguments of the workload: candidate code, joined to the mock's network namespace."""
    kwargs = _common(limits, WORKLOAD_UID)
    kwargs["environment"].update(
        {
            "IPYTHONDIR": "/tmp/.ipython",
            "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter-runtime",
            "MPLCONFIGDIR": "/tmp/.matplotlib",
            **env,
            "OPENAI_BASE_URL": f"http://127.0.0.1:{MOCK_PORT}/v1",
            "OPENAI_API_KEY": api_key,
        }
    )
    kwargs.update(
        image=image,
        command=command,
        name=name,
        labels=labels,
        network_mode=f"container:{mock_name}",
        volumes=_binds(mounts),
        working_dir="/workspace",
    )
    return kwargs


def grader_kwargs(*, image: str, command: list[str], name: str, labels: dict[str, str], mounts: list[Mount],
                  env: dict[str, str], resolv_conf: str) -> dict[str, Any]:
    """Create-arguments of the grader: hidden tests over copied-out artifacts, its own empty network."""
    kwargs = _common(Limits(memory=1024**3, cpus=1.0, pids=256), GRADER_UID)
    kwargs["environment"].update(env)
    kwargs.update(
        image=image,
        command=command,
        name=name,
        labels=labels,
        network_mode="none",
        volumes=_binds([*mounts, Mount(source=resolv_conf, target="/etc/resolv.conf", read_only=True)]),
        working_dir="/tmp",
    )
    return kwargs
