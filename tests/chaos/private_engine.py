"""A private second Docker engine for the dockerd-restart scenario: the shared engine is never restarted.

Its own socket, data root, exec root and pidfile (under a short /tmp dir: unix
socket paths are short), a bridge of its own, no iptables and no IP
masquerading, so the main engine's `docker0` and its rules are left alone.
Not `--bridge none`: a dockerd started with it *deletes* the `docker0` link at
start-up (it assumes docker0 is its own leftover), which took the main
engine's bridge away here (containers on the default network, and so `docker
build`, need it). The sandbox images are
copied in with `docker save | docker load` (no registry). `restart()` stops it
as `systemctl restart docker` would (SIGTERM: it stops every container) and
starts it again on the same data root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sessions import stop_session


class PrivateEngine:
    """One dockerd of our own; `host` is its DOCKER_HOST."""

    def __init__(self, log: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ws-chaos-e-"))
        self.host = f"unix://{self.root}/docker.sock"
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.bridge = f"wsc{os.getpid() % 100000}"  # at most 15 characters; ours alone

    def _make_bridge(self) -> None:
        if subprocess.run(["ip", "link", "show", self.bridge], capture_output=True).returncode == 0:
            return
        third = os.getpid() % 200 + 20
        for cmd in (["ip", "link", "add", self.bridge, "type", "bridge"],
                    ["ip", "addr", "add", f"10.254.{third}.1/24", "dev", self.bridge],
                    ["ip", "link", "set", self.bridge, "up"]):
            subprocess.run(cmd, check=True, capture_output=True)

    def argv(self) -> list[str]:
        """dockerd's command line: everything of its own, nothing of the main engine's networking."""
        return ["dockerd", "--host", self.host, "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "docker.pid"),
                "--bridge", self.bridge, "--iptables=false", "--ip6tables=false", "--ip-masq=false"]

    def start(self, timeout: float = 90) -> None:
        """Start dockerd and wait until it answers; AssertionError with its log's tail if it does not."""
        had_docker0 = docker0_present()
        self._make_bridge()
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.docker("version").returncode == 0:
                assert docker0_present() or not had_docker0, "starting the private dockerd removed the main docker0"
                return
            assert self.proc.poll() is None, f"private dockerd exited: {self.log.read_text()[-2000:]}"
            time.sleep(0.5)
        raise AssertionError(f"private dockerd did not answer in {timeout:.0f}s: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 90) -> None:
        """Stop dockerd (and the containerd it manages); SIGKILL to its session if it lingers."""
        stop_session(self.proc, sig, timeout)

    def restart(self) -> float:
        """Stop and start again on the same data root; seconds the engine did not answer."""
        began = time.monotonic()
        self.stop()
        self.start()
        return time.monotonic() - began

    def docker(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """Run the docker CLI against this engine."""
        return subprocess.run(["docker", "-H", self.host, *args], capture_output=True, text=True, **kwargs)

    def load_images(self, refs: list[str]) -> None:
        """Copy `refs` from the main engine (the environment's DOCKER_HOST is not used for it)."""
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
        save = subprocess.Popen(["docker", "save", *refs], stdout=subprocess.PIPE, env=env)
        with save.stdout:
            load = subprocess.run(["docker", "-H", self.host, "load", "-q"], stdin=save.stdout, capture_output=True,
                                  text=True)
        save.wait()
        assert save.returncode == 0 and load.returncode == 0, f"image copy failed: {load.stderr.strip()}"

    def remove(self) -> None:
        """Remove every container, stop the engine, unmount what it left and delete its root."""
        if self.proc is not None and self.proc.poll() is None:
            left = self.docker("ps", "-aq").stdout.split()
            if left:
                self.docker("rm", "-f", "-v", *left)
        self.stop()
        with open("/proc/self/mountinfo") as fh:
            points = [line.split()[4] for line in fh]
        for point in sorted((p for p in points if p.startswith(str(self.root) + "/")), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)


def docker0_present() -> bool:
    """True while the main engine's docker0 bridge exists (a second engine must never take it away)."""
    return subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0
