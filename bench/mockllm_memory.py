"""Memory of the mock LLM API under connection-flood attacks (issue 11, item 8).

Starts `python -m worksample.mockllm serve` (from this tree, or from
`--pythonpath DIR` to measure another version of the package) and samples
its RSS (VmRSS, 20 ms) while one attack runs:

- `partial`: N connections each announce a body just under the 2 MiB cap and
  send all of it but the last byte, then hold the connection open;
- `junk`: N connections each send a complete 2 MiB chat request that is
  valid but carries a huge unknown top-level list (accepted, like the real
  API accepts unknown parameters), then wait out the injected latency;
- `headers`: one connection sends 256 MiB of request headers.

Prints baseline and peak RSS (MiB), whether the mock survived, and how the
mock answered. Without a cgroup the old mock simply grows; in a pod
(256 MiB limit) anything past that is an OOM kill.

    .venv/bin/python bench/mockllm_memory.py [--attack partial|junk|headers|all] [--connections 160]

`--docker IMAGE` runs the mock as in a pod instead: the mockllm image with
the pod's 256 MiB memory limit (swap equal), `--code DIR` mounted over its
worksample.mockllm package (to compare versions), and reports the
container's peak memory (cgroup), whether the kernel OOM-killed it, its exit
status and what it wrote in mock.json.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MODELS = [{"id": "atlas-mini", "input_per_mtok": 0.15, "output_per_mtok": 0.6, "context_window": 16000}]
BODY_CAP = 2 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(workdir: Path, pythonpath: str | None) -> tuple[subprocess.Popen, int]:
    profile = workdir / "profile.json"
    profile.write_text(json.dumps({"seed": 1, "models": MODELS, "latency": {"p50_ms": 5000, "p95_ms": 5000}}))
    port = free_port()
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.Popen([sys.executable, "-m", "worksample.mockllm", "serve", "--profile", str(profile), "--port",
                             str(port), "--log", str(workdir / "log" / "calls.jsonl")], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("mock did not start")


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, False

    def run(self) -> None:
        while not self.stop:
            rss = rss_mib(self.pid)
            if rss is None:
                return
            self.peak = max(self.peak, rss)
            time.sleep(0.02)


def head(length: int | None, extra: bytes = b"") -> bytes:
    lines = [b"POST /v1/chat/completions HTTP/1.1", b"host: mock", b"authorization: Bearer sk-attack",
             b"content-type: application/json"]
    lines.append(b"content-length: " + str(length).encode() if length is not None else b"transfer-encoding: chunked")
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"


def junk_body() -> bytes:
    start = b'{"model":"atlas-mini","messages":[{"role":"user","content":"hi"}],"junk":['
    n = (BODY_CAP - len(start) - 8) // 2
    return start + b"0," * n + b"0]}"


async def one(port: int, attack: str, hold: float, statuses: collections.Counter) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        statuses[f"connect:{type(exc).__name__}"] += 1
        return
    try:
        if attack == "partial":
            length = BODY_CAP - 1
            writer.write(head(length) + b"{" + b" " * (length - 2))
        elif attack == "junk":
            body = junk_body()
            writer.write(head(len(body)) + body)
        else:  # headers
            writer.write(b"GET /v1/models HTTP/1.1\r\nhost: mock\r\n")
            chunk = b"x-pad: " + b"a" * 65_000 + b"\r\n"
            for _ in range(256 * 1024 * 1024 // len(chunk)):
                writer.write(chunk)
                await writer.drain()
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readline(), hold)
            statuses[line.split(b" ")[1].decode() if line else "closed"] += 1
        except TimeoutError:
            statuses["held"] += 1
    except (ConnectionError, OSError) as exc:
        statuses[f"dropped:{type(exc).__name__}"] += 1
    finally:
        writer.close()


async def attack(port: int, kind: str, n: int, hold: float) -> collections.Counter:
    statuses: collections.Counter = collections.Counter()
    count = 1 if kind == "headers" else n
    await asyncio.gather(*(one(port, kind, hold, statuses) for _ in range(count)))
    return statuses


def run(kind: str, n: int, hold: float, pythonpath: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start(Path(tmp), pythonpath)
        try:
            time.sleep(0.5)
            base = rss_mib(proc.pid)
            sampler = Sampler(proc.pid)
            sampler.start()
            t0 = time.monotonic()
            statuses = asyncio.run(attack(port, kind, n, hold))
            sampler.stop = True
            sampler.join()
            alive = proc.poll() is None
            after = rss_mib(proc.pid) if alive else None
            print(f"{kind:8} conns={1 if kind == 'headers' else n:4} baseline={base:.0f} MiB peak={sampler.peak:.0f} MiB "
                  f"after={after if after is None else round(after)} MiB alive={alive} "
                  f"{time.monotonic() - t0:.1f}s answers={dict(statuses)}")
        finally:
            proc.kill()
            proc.wait()


def run_docker(kind: str, n: int, hold: float, image: str, code: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "plan").mkdir()
        (work / "log").mkdir()
        os.chmod(work / "log", 0o777)
        (work / "plan" / "profile.json").write_text(json.dumps({"seed": 1, "models": MODELS,
                                                                "latency": {"p50_ms": 5000, "p95_ms": 5000}}))
        port = free_port()
        cmd = ["docker", "run", "-d", "--label", "worksample.bench=mockllm_memory", "--memory", "256m",
               "--memory-swap", "256m", "--user", "1000:1000", "-p", f"127.0.0.1:{port}:8080",
               "-v", f"{work / 'plan'}:/mock/plan:ro", "-v", f"{work / 'log'}:/mock/log"]
        if code:
            cmd += ["-v", f"{Path(code).resolve()}:/opt/mock/worksample/mockllm:ro"]
        cmd += ["--entrypoint", "python", image, "-m", "worksample.mockllm", "serve", "--profile",
                "/mock/plan/profile.json", "--host", "0.0.0.0", "--port", "8080", "--log", "/mock/log/calls.jsonl"]
        cid = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
                        if sock.recv(20).startswith(b"HTTP/1.1 200"):
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the mock container did not get ready")
                time.sleep(0.2)
            cg = Path(f"/sys/fs/cgroup/memory/docker/{cid}")
            base = int((cg / "memory.usage_in_bytes").read_text()) / 1024**2
            t0 = time.monotonic()
            statuses = asyncio.run(attack(port, kind, n, hold))
            time.sleep(1)
            peak = int((cg / "memory.max_usage_in_bytes").read_text()) / 1024**2 if cg.exists() else float("nan")
            state = json.loads(subprocess.run(["docker", "inspect", cid], capture_output=True, text=True).stdout)[0]["State"]
            mock_json = (work / "log" / "mock.json")
            print(f"docker {kind:8} conns={1 if kind == 'headers' else n:4} baseline={base:.0f} MiB peak={peak:.0f} MiB "
                  f"running={state['Running']} oom_killed={state['OOMKilled']} exit={state['ExitCode']} "
                  f"{time.monotonic() - t0:.1f}s answers={dict(statuses)} "
                  f"mock.json={mock_json.read_text().strip() if mock_json.exists() else None}")
        finally:
            subprocess.run(["docker", "rm", "-f", cid], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attack", choices=("partial", "junk", "headers", "all"), default="all")
    parser.add_argument("--connections", type=int, default=160)
    parser.add_argument("--hold", type=float, default=8.0, help="seconds each connection waits for an answer")
    parser.add_argument("--pythonpath", default=None, help="run the worksample package found here instead")
    parser.add_argument("--docker", default=None, metavar="IMAGE", help="run the mock in this mockllm image, 256 MiB")
    parser.add_argument("--code", default=None, help="with --docker: a worksample/mockllm dir mounted over the image's")
    args = parser.parse_args()
    for kind in (("partial", "junk", "headers") if args.attack == "all" else (args.attack,)):
        if args.docker:
            run_docker(kind, args.connections, args.hold, args.docker, args.code)
        else:
            run(kind, args.connections, args.hold, args.pythonpath)


if __name__ == "__main__":
    main()
