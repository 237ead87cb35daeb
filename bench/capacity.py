"""Idle-attempt capacity of this host: memory per idle attempt, measured on a sample, and what a host holds.

    .venv/bin/python bench/capacity.py [--attempts 10] [--reserve-gib 4] [--host-gib 24]

Opens `--attempts` attempts one after another through a real `worksample serve`
(warm pool off; the flagship task's copy from bench/attempt_start.py), each with
a kernel started and idle, as a candidate who has opened the notebook and is
thinking. After they settle it measures, for the sample:

- each pod's memory (`docker stats`: JupyterLab + its idle kernel, and the mock),
  mean and max over the sample;
- the host's MemAvailable before the first and after the last, divided by the
  sample size: what an attempt really costs the host, including what docker
  stats leaves out (the workspace's loop device and page cache, the /ipc tmpfs,
  containerd shims, the API's own growth);
- the API process's resident memory before and after.

Then it extrapolates, and says so: attempts per host = (host memory − reserve) ÷
the larger per-attempt figure, where the reserve (default 4 GiB) is the OS, the
API, Redis, the workers and two grading pods at their limit. This is the idle
ceiling: a candidate who loads data grows toward the pod's memory limit, so it
also prints host memory ÷ the pod's limit (the count with no overcommit).
Everything it made is removed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from attempt_start import Bench, pod_memory_mib, serving  # noqa: E402

SETTLE_S = 20.0  # JupyterLab's and the kernel's start-up garbage collected, the mock idle


def mem_available_mib() -> float:
    """The host's MemAvailable (MiB)."""
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def rss_mib(pid: int) -> float:
    """Resident memory (MiB) of a process and its children (the API's uvicorn)."""
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0) / 1024
            with open(f"/proc/{current}/task/{current}/children") as fh:
                pids += [int(child) for child in fh.read().split()]
        except OSError:
            continue
    return total


def pod_limit_mib(bench: Bench) -> float:
    """The task's pod memory limit (MiB), as its task.yaml says."""
    import yaml

    from worksample.units import size_bytes

    spec = yaml.safe_load((bench.root / "tasks" / bench.slug / "task.yaml").read_text())
    return size_bytes(spec["resources"]["memory"]) / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10, help="idle attempts in the sample")
    parser.add_argument("--reserve-gib", type=float, default=4.0, help="memory kept for the OS and the platform")
    parser.add_argument("--host-gib", type=float, default=0.0, help="host memory to extrapolate to (0: this host's)")
    args = parser.parse_args()
    with serving("capacity") as bench:
        load_start = os.getloadavg()[0]
        time.sleep(2)
        avail_before, api_before = mem_available_mib(), rss_mib(bench.proc.pid)
        opened = []
        for _ in range(args.attempts):
            opened.append(bench.open_attempt(bench.invite()))
        time.sleep(SETTLE_S)
        pods = [pod_memory_mib(o["attempt_id"]) for o in opened]
        avail_after, api_after = mem_available_mib(), rss_mib(bench.proc.pid)
        usable = sum(bench.usable(o) for o in opened)
        load_end = os.getloadavg()[0]
        limit = pod_limit_mib(bench)

    totals = [sum(p.values()) for p in pods]
    per_host = (avail_before - avail_after) / len(opened)
    per_attempt = max(statistics.mean(totals), per_host)
    host_mib = args.host_gib * 1024 if args.host_gib else _mem_total_mib()
    holds = int((host_mib - args.reserve_gib * 1024) // per_attempt)
    roles = {role: round(statistics.mean(p.get(role, 0.0) for p in pods), 1) for role in sorted({r for p in pods for r in p})}
    print(f"sample: {len(opened)} idle attempts (JupyterLab + one idle kernel + the mock), task {bench.slug}; "
          f"{usable}/{len(opened)} ran code at the end")
    print(f"  pod memory (docker stats)   mean {statistics.mean(totals):.0f} MiB, max {max(totals):.0f} MiB; "
          f"mean per container {roles}")
    print(f"  host MemAvailable drop      {avail_before - avail_after:.0f} MiB for {len(opened)} = "
          f"{per_host:.0f} MiB per attempt (loop device, page cache, tmpfs, shims included)")
    print(f"  API resident memory         {api_before:.0f} → {api_after:.0f} MiB")
    print(f"  load average (1m)           {load_start:.1f} at the start, {load_end:.1f} at the end "
          f"({os.cpu_count()} cores; a shared machine: other work moves MemAvailable too)")
    print(f"extrapolated (not measured at that size): a {host_mib / 1024:.0f} GiB host with {args.reserve_gib:.0f} GiB "
          f"reserved holds ≈ {holds} idle attempts at {per_attempt:.0f} MiB each; "
          f"with no overcommit of the pods' {limit:.0f} MiB limit, {int((host_mib - args.reserve_gib * 1024) // limit)}")


def _mem_total_mib() -> float:
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) / 1024


if __name__ == "__main__":
    main()
