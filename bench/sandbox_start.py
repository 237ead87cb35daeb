"""Sandbox start-up figures: p50/p95 of pod create → `true` exited, and pod create → kernel ready over ipc.

    .venv/bin/python bench/sandbox_start.py [--runs 20]

Each run creates a full pod (mock + hardened workload + quota'd workspace) and
removes it afterwards; removal is not timed. Also prints where the time goes
(create vs. wait) so regressions can be placed.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from worksample import sandbox
from worksample.errors import WorksampleError
from worksample.sandbox import engine

LABELS = {"worksample.bench": "1"}


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def time_true() -> tuple[float, float]:
    """Seconds from create to `true` exited, and of that, the create call."""
    start = time.perf_counter()
    pod = sandbox.create_pod(sandbox.PodSpec(command=["true"], image="notebook", labels=LABELS))
    created = time.perf_counter()
    try:
        code = sandbox.wait(pod, timeout=30)
        done = time.perf_counter()
        assert code == 0, f"true exited {code}"
    finally:
        sandbox.remove(pod)
    return done - start, created - start


def time_kernel() -> tuple[float, float]:
    """Seconds from create to kernel_info answered over ipc, and of that, the create call."""
    start = time.perf_counter()
    pod = sandbox.create_pod(sandbox.PodSpec(kernel=True, image="notebook", labels=LABELS))
    created = time.perf_counter()
    try:
        client = sandbox.wait_kernel_ready(pod, timeout=60)
        done = time.perf_counter()
        client.stop_channels()
    finally:
        sandbox.remove(pod)
    return done - start, created - start


def report(name: str, samples: list[tuple[float, float]]) -> None:
    """Print p50/p95 of the totals and the median create share."""
    totals = [s[0] for s in samples]
    creates = [s[1] for s in samples]
    print(f"{name:<28} n={len(totals)}  p50={percentile(totals, 0.5):.3f}s  p95={percentile(totals, 0.95):.3f}s  "
          f"(create call p50={statistics.median(creates):.3f}s, rest p50={statistics.median(totals) - statistics.median(creates):.3f}s)")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    engine.client()
    try:
        mock = engine.resolve_image("mockllm")
    except WorksampleError as exc:
        mock = f"placeholder listener from the base image ({exc})"
    print(f"workload image {engine.resolve_image('notebook')}; mock {mock}")
    time_true()  # warm caches (image layers, page cache) so run 1 is not an outlier
    report("create -> true exited", [time_true() for _ in range(args.runs)])
    report("create -> kernel ready (ipc)", [time_kernel() for _ in range(args.runs)])


if __name__ == "__main__":
    main()
