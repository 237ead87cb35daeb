"""`worksample sandbox`: run a command in a hardened pod, list and reap pods."""

from __future__ import annotations

import signal
import sys
import time
from typing import Callable, List, Optional

import typer

from worksample.errors import UsageError
from worksample.sandbox.spec import parse_count, parse_cpus, parse_size

app = typer.Typer(no_args_is_help=True)


def _checked(parse: Callable) -> Callable:
    """Turn a sandbox.spec parser into an option callback: nonsense is a UsageError (exit 2).

    UsageError rather than click's BadParameter: `worksample.cli.main` prints it as one line.
    """

    def callback(ctx: typer.Context, param: typer.CallbackParam, value):
        try:
            parse(value)
        except UsageError as exc:
            raise UsageError(f"--{param.name}: {str(exc).split(': ', 1)[-1]}") from None
        return value

    return callback


def _size(name: str, minimum: int) -> Callable:
    return _checked(lambda v: parse_size(v, name, minimum))


def _labels(values: list[str]) -> dict[str, str]:
    labels = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--label: {item!r} is not KEY=VALUE")
        labels[key] = value
    return labels


def _on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # unwinds through run_command's finally, which removes the pod


@app.command("run", context_settings={"allow_interspersed_args": False})
def run(
    command: List[str] = typer.Argument(..., metavar="-- CMD …", help="The command and its arguments"),
    image: str = typer.Option("notebook", help="Image name (notebook, base, …) or a full local reference"),
    memory: str = typer.Option("512m", callback=_size("memory", 16 * 1024**2), help="Memory limit (swap equal)"),
    cpus: float = typer.Option(1.0, callback=_checked(parse_cpus), help="CPU quota"),
    pids: int = typer.Option(128, callback=_checked(lambda v: parse_count(v, "pids", 8, 32768)), help="Process limit"),
    timeout: float = typer.Option(30.0, help="Seconds before the command is killed (exit 124)"),
    disk: str = typer.Option("256m", callback=_size("disk", 8 * 1024**2), help="Workspace quota"),
    label: Optional[List[str]] = typer.Option(None, "--label", help="Extra container label KEY=VALUE (repeatable)"),
) -> None:
    """Run CMD in a hardened workload container beside a mock LLM; exit with CMD's status (124 at the time limit)."""
    from worksample.sandbox import Limits, PodSpec, run_command

    if timeout <= 0:
        raise UsageError(f"--timeout: {timeout!r} must be positive")
    limits = Limits.parse(memory=memory, cpus=cpus, pids=pids, disk=disk)
    spec = PodSpec(command=list(command), image=image, limits=limits, timeout=timeout, labels=_labels(label or []))
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = run_command(spec, on_stdout=_writer(sys.stdout), on_stderr=_writer(sys.stderr))
    except KeyboardInterrupt:
        print("worksample: interrupted; pod removed", file=sys.stderr)
        sys.exit(130)
    if result.truncated:
        print("worksample: output capped at 1 MiB; the rest was discarded", file=sys.stderr)
    if result.timed_out:
        print(f"worksample: time limit of {timeout:g}s reached; command killed", file=sys.stderr)
    # sys.exit, not typer.Exit: with standalone_mode=False click returns Exit's code instead of exiting.
    sys.exit(result.exit_code)


def _writer(stream) -> Callable[[bytes], None]:
    def write(chunk: bytes) -> None:
        stream.buffer.write(chunk)
        stream.buffer.flush()

    return write


@app.command("list")
def list_pods(every_platform: bool = typer.Option(False, "--all", help="Also pods of other data dirs")) -> None:
    """List this platform's pods (found by label) with their roles, states and deadlines."""
    from worksample.sandbox import default_backend

    now = time.time()
    for pod in default_backend().list_pods(every_platform=every_platform):
        left = f"{pod.deadline - now:.0f}s left" if pod.deadline else "no deadline"
        states = " ".join(f"{role}={state}" for role, state in sorted(pod.states.items()))
        typer.echo(f"{pod.id}  {states}  {left}")


@app.command("reap")
def reap_pods() -> None:
    """Remove pods past their deadline and half-pods (what the worker's reaper does)."""
    from worksample.sandbox import reap

    for item in reap():
        typer.echo(f"removed {item.pod_id} ({item.reason})")
