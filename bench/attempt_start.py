"""Attempt start-up figures: Start → JupyterLab answering and a kernel idle; idle pod memory; 20 at once.

Runs a real `worksample serve` on loopback with its own data dir under
var/bench/ and a copy of the flagship task (or a scaffolded one while the
flagship does not validate). For each attempt it times, from the browser's
side of the platform:
  start   POST /api/v1/attempts/{token}/start (returns once JupyterLab answers on its socket, or with its
          workspace still queued, then polled until ready: WORKSAMPLE_START_CONCURRENCY cold starts at once)
  kernel  POST /w/{id}/api/kernels until the kernel reports `idle`
Then it measures the memory of an idle attempt's pod (JupyterLab + one idle
kernel, and the mock beside it) with `docker stats`, and opens N attempts at
once and checks that each one runs code. Everything it made is removed.

    .venv/bin/python bench/attempt_start.py [--starts 10] [--concurrent 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUN = uuid.uuid4().hex[:8]
sys.path.insert(0, str(REPO / "tests"))  # the tests' shared helpers (sessions)
sys.path.insert(0, str(REPO / "tests" / "integration" / "attempts"))  # the attempt tests' task copy

from attempts_harness import flagship_copy, free_port  # noqa: E402
from figures import pct  # noqa: E402  (bench/, beside this file)


def make_tasks(root: Path) -> str:
    """A copy of the flagship (or a scaffold) in `root`; its slug."""
    return flagship_copy(root, "bench-task")[1]["slug"]


class Bench:
    """A `worksample serve` process and the calls the figures need."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tasks = root / "tasks"
        tasks.mkdir(parents=True)
        self.slug = make_tasks(tasks)
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        self.env.update(WORKSAMPLE_DATA_DIR=str(root / "data"), WORKSAMPLE_TASKS_DIR=str(tasks),
                        WORKSAMPLE_POD_LABELS=f"worksample.bench={RUN}", WORKSAMPLE_PUBLIC_URL=self.url)
        self.proc = None
        self.admin = None

    def start(self) -> None:
        log = open(self.root / "serve.log", "wb")
        self.proc = subprocess.Popen([str(BIN / "worksample"), "serve", "--port", str(self.port)], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(600):
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        out = subprocess.run([str(BIN / "worksample"), "token", "create", "--role", "admin"], env=self.env,
                             capture_output=True, text=True, check=True)
        self.admin = out.stdout.strip().splitlines()[-1]

    def invite(self) -> str:
        resp = httpx.post(self.url + "/api/v1/invitations", headers={"Authorization": f"Bearer {self.admin}"},
                          json={"task": self.slug, "candidate": {"name": "Bench", "email": "b@example.com"}}, timeout=30)
        resp.raise_for_status()
        return resp.json()["token"]

    def open_attempt(self, token: str) -> dict:
        """Start an attempt and a kernel; the ids, `token`, seconds from the Start to JupyterLab answering
        (`lab_s`) and to the kernel ready (`ready_s`), and whether the Start answered before its workspace
        was ready (`polled`)."""
        t0 = time.perf_counter()
        resp = httpx.post(f"{self.url}/api/v1/attempts/{token}/start", timeout=300)
        resp.raise_for_status()
        attempt_id, cookie = resp.json()["attempt_id"], resp.cookies["ws_attempt"]
        with httpx.Client(base_url=self.url, cookies={"ws_attempt": cookie}, timeout=120) as client:
            polled = wait_workspace(client, attempt_id, resp.json())
            self.lab_answers(client, attempt_id)
            t_lab = time.perf_counter() - t0
            kernel = client.post(f"/w/{attempt_id}/api/kernels", json={"name": "python3"}).json()["id"]
        opened = {"attempt_id": attempt_id, "cookie": cookie, "kernel": kernel, "lab_s": t_lab, "token": token,
                  "polled": polled}
        self.kernel_ready(opened)
        opened["ready_s"] = time.perf_counter() - t0
        return opened

    def lab_answers(self, client: httpx.Client, attempt_id: str) -> None:
        """Called by `open_attempt` once the workspace is ready, before "JupyterLab answering" is timed: here
        nothing more (a ready workspace answered on its socket); `startup.PoolBench` also asks through the proxy."""

    def kernel_ready(self, opened: dict) -> None:
        """Called by `open_attempt`: wait until the kernel answers kernel_info over the proxied websocket,
        as JupyterLab waits for. Raises what the websocket raised."""
        self.request(opened, "kernel_info_request", {}, "kernel_info_reply")

    def request(self, opened: dict, msg_type: str, content: dict, until: str) -> dict:
        """Send one shell message through the platform's websocket proxy; the first `until` reply to it."""
        from websockets.sync.client import connect

        url = f"ws://127.0.0.1:{self.port}/w/{opened['attempt_id']}/api/kernels/{opened['kernel']}/channels"
        msg_id = uuid.uuid4().hex
        message = {"channel": "shell", "buffers": [], "parent_header": {}, "metadata": {}, "content": content,
                   "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "b", "session": "b",
                              "version": "5.3", "date": "2026-01-01T00:00:00Z"}}
        with connect(url, additional_headers={"Cookie": f"ws_attempt={opened['cookie']}", "Origin": self.url},
                     open_timeout=120) as ws:
            ws.send(json.dumps(message))
            while True:
                msg = json.loads(ws.recv(timeout=120))
                if msg.get("parent_header", {}).get("msg_id") == msg_id and msg["header"]["msg_type"] == until:
                    return msg

    def usable(self, opened: dict) -> bool:
        """True if the attempt's kernel runs code through the proxy (websocket, as the browser does)."""
        code = {"code": "print(6 * 7)", "silent": False, "store_history": False, "user_expressions": {},
                "allow_stdin": False, "stop_on_error": True}
        return self.request(opened, "execute_request", code, "stream")["content"]["text"].strip() == "42"

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=worksample.bench={RUN}"],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True)
        data = self.root / "data"
        for mount in [*(data / "attempts").glob("*/workspace"), *(data / "pods").glob("*/ipc")]:  # ipc: a tmpfs
            if os.path.ismount(mount):
                subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@contextmanager
def serving(name: str, bench_class: type[Bench] = Bench, *args) -> Iterator[Bench]:
    """A started `bench_class(root, *args)` with root var/bench/`name`-RUN; stopped, its pods removed and its
    folder deleted at the end, after the tail of its serve.log went to stderr if the bench failed."""
    root = REPO / "var" / "bench" / f"{name}-{RUN}"
    bench = bench_class(root, *args)
    try:
        bench.start()
        yield bench
    except BaseException:
        log = root / "serve.log"
        print(log.read_text()[-3000:] if log.exists() else "(no serve.log)", file=sys.stderr)
        raise
    finally:
        bench.close()
        shutil.rmtree(root, ignore_errors=True)


def wait_workspace(client: httpx.Client, attempt_id: str, body: dict, timeout: float = 1800) -> bool:
    """Poll the attempt's state, as the workspace page does, until its workspace is ready; True if it had to.
    A Start still in the host's start queue when the API stops waiting (55 s) answers with its workspace
    `queued` or `starting`; a `failed` start is retried by the platform on the next poll."""
    state = (body.get("workspace") or {}).get("state", "ready")
    polled, deadline = False, time.monotonic() + timeout
    while state != "ready":
        if time.monotonic() > deadline:
            raise TimeoutError(f"workspace of {attempt_id} not ready in {timeout:.0f}s (last state {state})")
        time.sleep(0.25)
        polled = True
        resp = client.get(f"/api/v1/attempts/{attempt_id}")
        resp.raise_for_status()
        state = resp.json()["workspace"]["state"]
    return polled


def pod_memory_mib(attempt_id: str) -> dict[str, float]:
    """Memory use (MiB) per role of the attempt's pod containers, from `docker stats`."""
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=worksample.attempt={attempt_id}"],
                         capture_output=True, text=True, check=True).stdout.split()
    out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *ids],
                         capture_output=True, text=True, check=True).stdout
    scale = {"B": 1 / 1024**2, "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0}
    usage = {}
    for line in out.splitlines():
        name, used = line.split()[:2]
        number = used.rstrip("BKMGi")
        usage[name.rsplit("-", 1)[1]] = round(float(number) * scale[used[len(number):]], 1)
    return usage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10, help="sequential cold starts to time")
    parser.add_argument("--concurrent", type=int, default=20, help="attempts opened at once")
    args = parser.parse_args()
    with serving("attempt_start") as bench:
        runs = [bench.open_attempt(bench.invite()) for _ in range(args.starts)]
        lab, ready = [r["lab_s"] for r in runs], [r["ready_s"] for r in runs]
        print(f"cold starts: {args.starts} sequential, task {bench.slug}")
        print(f"  Start → JupyterLab answering   p50 {pct(lab, .5):.2f} s  p95 {pct(lab, .95):.2f} s")
        print(f"  Start → kernel idle            p50 {pct(ready, .5):.2f} s  p95 {pct(ready, .95):.2f} s"
              f"  (mean {statistics.mean(ready):.2f} s)")
        time.sleep(5)  # let the newest attempt settle to idle
        mem = pod_memory_mib(runs[-1]["attempt_id"])
        print(f"idle attempt pod memory (MiB): {mem}  total {sum(mem.values()):.1f}")
        tokens = [bench.invite() for _ in range(args.concurrent)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrent) as pool:
            opened = list(pool.map(bench.open_attempt, tokens))
            wall = time.perf_counter() - t0
            ok = list(pool.map(bench.usable, opened))
        print(f"{args.concurrent} attempts opened at once: all ready in {wall:.1f} s wall "
              f"(slowest start→kernel idle {max(o['ready_s'] for o in opened):.1f} s); usable {sum(ok)}/{len(ok)}")
        live = len(runs) + len(opened)
        print(f"attempts open at the end: {live}")


if __name__ == "__main__":
    main()
