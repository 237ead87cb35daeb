"""One grading run (DESIGN §9 steps 1–4): a grading pod, the notebook run, copy-out, the hidden suite.

With `grading.rerun` in task.yaml the entrypoint runs a second time, in a pod
of its own (fresh kernel, fresh copy of the submission, same hidden data and
mock seed, no grader) while the first pod waits, and that run is collected
into `<run>/rerun/` for checks that compare the two (reproducibility).

The pod: the task's image running a bare ipykernel over `ipc`, a fresh mock
with the grading profile and the task's oracle, the hidden hold-out data at
`/workspace/data`, and a grader container that waits until the run folder is
complete. The grader never runs candidate code and the run folder is never
mounted into the workload, so the result comes back through a channel the
candidate's code never touched.

Errors are of two kinds (STYLE.md): infrastructure faults (Docker down, an
image missing) raise and are retried by the queue; everything the candidate's
code does is recorded in the `RunRecord`.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from worksample import sandbox
from worksample.errors import InfrastructureError, WorksampleError
from worksample.grading import notebook as nbrun
from worksample.grading.suite import SuitePaths, resolve_suites
from worksample.sandbox.kernel import DropCounter
from worksample.sandbox.spec import GRADER_UID, GraderSpec, Limits, MockSpec, Mount, PodSpec
from worksample.timeouts import CELL_S, GRADER_S, grading_ladder
from worksample_grader import runfolder as rf  # the run folder's names: the grading SDK reads what this writes

log = logging.getLogger(__name__)

COPY_OUT_CAP = 64 * 1024**2
MOCK_LOG_CAP = 128 * 1024**2
RESULT_CAP = 4 * 1024**2
ENTRYPOINT_CAP = 32 * 1024**2
# -P: the kernel itself is imported from the image, never from the candidate's /workspace (with
# `-m ipykernel_launcher` a planted ipykernel_launcher.py would run instead); then '' goes on
# sys.path so the notebook imports its own modules, as it does in JupyterLab.
KERNEL_COMMAND = ["python3", "-P", "-c", "import sys; from ipykernel import kernelapp; sys.path.insert(0, ''); "
                  "kernelapp.launch_new_instance()", "-f", "{connection_file}"]
DEFAULT_CELL_TIMEOUT = CELL_S
GRADER_TIMEOUT = GRADER_S
KERNEL_READY_TIMEOUT = 60.0
READY_FLAG = ".ready"
SKIP_COPY_IN = {"data", "outputs"}  # hold-out data is mounted; outputs must come from this run


class GraderFailed(WorksampleError):
    """The hidden suite produced no valid result (a grader fault, not the candidate's)."""


class MockLost(InfrastructureError):
    """The pod's mock LLM stopped during the run: the platform's fault, so the grading is retried."""


MOCK_STATE_CAP = 64 * 1024  # mock.json is a few hundred bytes; the mock writes it, never the candidate
MOCK_EXIT_MEMORY = 3  # the mock stopped itself before an OOM kill (docs/mockllm.md)


def candidate_stopped_mock(code: int, state: dict | None) -> str | None:
    """Why the mock's stop is the candidate's outcome, or None when it is the platform's fault.

    The mock bounds its memory per request and in total; if the candidate's own
    traffic still drives it to its limit it records `stopped.reason == "memory"`
    in mock.json and exits 3 (or the kernel OOM-kills it while it was shedding
    load, `pressure` recorded). Retrying that would only burn worker time three
    times over: it is graded as a crashed run instead. Any other stop (a
    service crash, exit 4; a signal; an engine fault) is the platform's.
    """
    state = state if isinstance(state, dict) else {}
    stopped = state.get("stopped") if isinstance(state.get("stopped"), dict) else {}
    if code == MOCK_EXIT_MEMORY or stopped.get("reason") == "memory":
        return "the run's own LLM traffic exhausted the mock API's memory; it stopped answering (candidate's outcome)"
    if code == 137 and state.get("pressure"):
        return "the mock API was killed for memory while shedding the run's own LLM traffic (candidate's outcome)"
    return None


def _mock_state(pod) -> dict | None:
    path = (pod.mock_log_dir or pod.dir / "mock" / "log") / "mock.json"
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with path.open("rb") as fh:
            return json.loads(fh.read(MOCK_STATE_CAP))
    except (OSError, ValueError):
        return None


@dataclass
class GradingInput:
    """What to grade: a task folder and a submission's workspace folder (or one notebook)."""

    task_dir: Path
    workspace: Path
    work_dir: Path  # a fresh folder of ours for the run folder and the result
    seed: int = 0
    labels: dict[str, str] | None = None
    cell_timeout: float = DEFAULT_CELL_TIMEOUT


@dataclass
class GradingOutcome:
    """A finished grading run: the run record, the suite's result, the run folder."""

    run: nbrun.RunRecord
    result: dict
    run_dir: Path
    task: dict
    entrypoint: str
    timings: dict


def grade_workspace(inp: GradingInput) -> GradingOutcome:
    """Run the entrypoint in a grading pod and the hidden suite over what it left; see module doc.

    Raises WorksampleError subclasses (DockerUnavailable, ImageMissing, GraderFailed,
    catalog errors) for faults that are not the candidate's.
    """
    from worksample.catalog import load_task

    task = load_task(inp.task_dir)
    suites = resolve_suites(inp.task_dir, str(task.grading.suite), task.grading.include)
    run_dir, result_dir, suites_dir = _prepare_dirs(inp.work_dir, suites)
    spec = _pod_spec(inp, task, suites, run_dir, result_dir, suites_dir)
    _require_images(task)
    clock = {"start": time.monotonic()}
    pod = sandbox.create_pod(spec)
    clock["pod"] = time.monotonic()
    try:
        _copy_submission(pod, inp.workspace)
        record, nb = _run_entrypoint(pod, inp, task)
        _collect(pod, run_dir, nb, record, task, inp.task_dir)
        clock["collected"] = time.monotonic()
        second = _rerun(inp, task, spec, run_dir / rf.RERUN_DIR, record, nb) if task.grading.rerun else None
        clock["rerun"] = time.monotonic()
        result = _run_grader(pod, run_dir, result_dir)
        clock["graded"] = time.monotonic()
    finally:
        sandbox.remove(pod)
    timings = {"pod_start_s": clock["pod"] - clock["start"], "notebook_s": record.duration_s,
               "grader_s": clock["graded"] - clock["rerun"], "total_s": time.monotonic() - clock["start"]}
    if second is not None:
        timings.update(rerun_s=clock["rerun"] - clock["collected"], rerun_notebook_s=second.duration_s)
    return GradingOutcome(record, result, run_dir, task.model_dump(mode="json"), task.workspace.entrypoint,
                          {k: round(v, 3) for k, v in timings.items()})


def _require_images(task) -> None:
    """Grading needs the real mock: without its image the sandbox would fall back to a placeholder."""
    from worksample.images import require

    for name in (task.image, "grader", *(("mockllm",) if task.mock_llm else ())):
        require(name)


def _prepare_dirs(work_dir: Path, suites: SuitePaths) -> tuple[Path, Path, Path]:
    """1. The run folder (grader reads), the result dir (only the grader writes), the suites root."""
    run_dir, result_dir, suites_dir = work_dir / "run", work_dir / "result", work_dir / "suites"
    for path in (run_dir / rf.MOCK_DIR, result_dir, suites_dir / "task"):
        path.mkdir(parents=True, exist_ok=True)
    for extra in suites.included:
        (suites_dir / extra.name).mkdir(exist_ok=True)
    (suites_dir / "pytest.ini").write_text("")
    shutil.chown(result_dir, GRADER_UID, GRADER_UID)
    for path in (work_dir, run_dir, suites_dir):
        path.chmod(0o755)
    return run_dir, result_dir, suites_dir


def _grader_command(suites: SuitePaths) -> list[str]:
    from worksample.grading.suite import pytest_command

    tests = ["/grading/suites/task", *[f"/grading/suites/{p.name}" for p in suites.included]]
    pytest_argv = pytest_command("python", "/grading/run", "/grading/result/result.json", "/grading/suites/task/data",
                                 tests, "/grading/suites/pytest.ini")
    # The grader starts with the pod and waits for the run folder to be complete.
    wait = (f"while [ ! -e /grading/run/{READY_FLAG} ]; do [ -e /grading/run/.abort ] && exit 3; sleep 0.05; done; "
            "cd /grading/suites && exec \"$@\"")
    return ["sh", "-c", wait, "grader", *pytest_argv]


def _pod_spec(inp: GradingInput, task, suites: SuitePaths, run_dir: Path, result_dir: Path,
              suites_dir: Path) -> PodSpec:
    """2. The grading pod: kernel workload, grading mock, hidden data, waiting grader."""
    mock = task.mock_llm
    folder = inp.task_dir
    mounts = [Mount(run_dir, "/grading/run"), Mount(suites_dir, "/grading/suites"),
              Mount(suites.task_suite, "/grading/suites/task"), Mount(result_dir, "/grading/result", read_only=False)]
    mounts += [Mount(p, f"/grading/suites/{p.name}") for p in suites.included]
    holdout = suites.hidden_data / "holdout"
    res = task.resources
    timeout = task.grading.timeout.total_seconds()
    return PodSpec(
        command=KERNEL_COMMAND,
        # With grading.rerun this pod waits, its grader idle, while the second run starts and runs elsewhere.
        image=task.image, kernel=True, timeout=grading_ladder(timeout, runs=task.grading.runs).pod_kill,
        limits=Limits(memory=res.memory, cpus=res.cpus, pids=res.pids, disk=res.disk),
        data=holdout if holdout.is_dir() else folder / str(task.workspace.data),
        labels={"worksample.purpose": "grading", **(inp.labels or {})},
        env=attempt_like_env(task.workspace.entrypoint),
        mock=MockSpec(profile=folder / str(mock.grading_profile) if mock else None, seed=inp.seed,
                      oracle=folder / str(mock.oracle) if mock and mock.oracle else None,
                      service=folder / str(mock.service) if mock and mock.service else None),
        grader=GraderSpec(command=_grader_command(suites), mounts=tuple(mounts), env={"PYTHONDONTWRITEBYTECODE": "1"}),
    )


def attempt_like_env(entrypoint: str) -> dict[str, str]:
    """Environment variables an attempt's kernel has from JupyterLab, with the same values where they
    do not depend on a running server, so a notebook cannot tell grading from an attempt by them."""
    return {"JUPYTER_CONFIG_DIR": "/ipc/jupyter", "JUPYTER_RUNTIME_DIR": "/ipc/jupyter/runtime",
            "JPY_SESSION_NAME": f"/workspace/{entrypoint}"}


def _copy_submission(pod, workspace: Path) -> None:
    """3. The submission's files into the pod's fresh workspace (not data/ and not old outputs/)."""
    backend = sandbox.default_backend()
    for entry in sorted(workspace.iterdir()):
        if entry.name in SKIP_COPY_IN or entry.is_symlink():
            continue
        dest = "/workspace" if entry.is_file() else f"/workspace/{entry.name}"
        backend.copy_in(pod, entry, dest)


def _run_entrypoint(pod, inp: GradingInput, task):
    """4. Execute the entrypoint cell by cell; a missing or broken notebook is the candidate's outcome."""
    path = inp.workspace / task.workspace.entrypoint
    if path.is_symlink() or not path.is_file():
        return _failed_run(f"entrypoint {task.workspace.entrypoint} is missing from the submission"), None
    if path.stat().st_size > ENTRYPOINT_CAP:
        return _failed_run(f"entrypoint {task.workspace.entrypoint} is larger than {ENTRYPOINT_CAP} bytes"), None
    try:
        nb = nbrun.load_notebook(path, task.workspace.entrypoint)
    except ValueError as exc:
        return _failed_run(str(exc)), None
    client = sandbox.wait_kernel_ready(pod, timeout=KERNEL_READY_TIMEOUT)
    dropped = DropCounter(client)
    try:
        total = task.grading.timeout.total_seconds()
        probe = _alive_probe(pod)
        record = nbrun.execute_notebook(nb, client, probe, min(inp.cell_timeout, total), total, dropped)
        # The probe looks at most once a second: a mock that died after its last look (a run of a second
        # that crashed it and then went on) would leave a call log with holes, graded as if complete.
        probe.mock_stopped = probe.mock_stopped or _check_mock(pod)
        if probe.mock_stopped:
            record.status = nbrun.RunStatus.crashed
            record.errors.append(probe.mock_stopped)
    finally:
        dropped.close()
        client.stop_channels()
    return record, nb


def _rerun(inp: GradingInput, task, spec: PodSpec, dest: Path, first: nbrun.RunRecord, first_nb):
    """5b. With grading.rerun: the entrypoint again, in a pod of its own built from the grading pod's spec
    (fresh kernel and workspace, a fresh copy of the submission, same hidden data and mock seed, no grader),
    collected into `dest` like the run folder. Returns its RunRecord, or None when it was not started:
    the first run timed out (a second would only time out again, at the cost of up to another whole run)
    or had no notebook to run; then `dest/run.json` says `skipped`. Everything the notebook does is the
    candidate's outcome, as in the first run; a pod or engine fault raises, as for the first.
    """
    (dest / rf.MOCK_DIR).mkdir(parents=True)
    for path in (dest, dest / rf.MOCK_DIR):
        path.chmod(0o755)
    if first_nb is None or first.status == nbrun.RunStatus.timeout:
        why = "had no notebook to run" if first_nb is None else "timed out"
        skipped = {"status": "skipped", "duration_s": 0.0, "cells": 0, "output_truncated": False,
                   "errors": [f"the first run {why}: the notebook was not run a second time"]}
        (dest / rf.RUN_FILE).write_text(json.dumps(skipped))
        (dest / rf.RUN_FILE).chmod(0o644)
        return None
    single = grading_ladder(task.grading.timeout.total_seconds()).pod_kill  # this pod holds one run
    pod = sandbox.create_pod(replace(spec, grader=None, timeout=single,
                                     labels={**spec.labels, "worksample.run": "rerun"}))
    try:
        _copy_submission(pod, inp.workspace)
        record, nb = _run_entrypoint(pod, inp, task)
        _collect(pod, dest, nb, record, task, inp.task_dir)
    finally:
        sandbox.remove(pod)
    return record


def _failed_run(message: str) -> nbrun.RunRecord:
    return nbrun.RunRecord(status=nbrun.RunStatus.error, errors=[message])


def _alive_probe(pod):
    """'Is the kernel's container still running?', asking the engine at most every second.

    Also watches the mock: the candidate's code cannot reach it to stop it, so a
    mock that is gone is an infrastructure fault (MockLost), unless it stopped itself because
    the run's own traffic exhausted it (`candidate_stopped_mock`): then the run ends, crashed.
    """
    last = {"at": 0.0, "alive": True}

    def alive() -> bool:
        if alive.mock_stopped:
            return False
        if time.monotonic() - last["at"] >= 1.0:
            alive.mock_stopped = _check_mock(pod)
            if alive.mock_stopped:
                return False
            last["alive"] = sandbox.wait(pod, "workload", timeout=0.01) is None
            last["at"] = time.monotonic()
        return last["alive"]

    alive.mock_stopped = None  # why the candidate's traffic stopped the mock, once it has
    return alive


def _check_mock(pod) -> str | None:
    """Raise MockLost if the mock stopped by the platform's fault; say why if the candidate stopped it."""
    try:
        code = sandbox.wait(pod, "mock", timeout=0.01)
    except WorksampleError:
        raise
    except Exception as exc:  # the engine says the container is gone (404) or similar
        raise MockLost(f"the mock LLM container of pod {pod.id} is gone: {type(exc).__name__}") from None
    if code is None:
        return None
    reason = candidate_stopped_mock(code, _mock_state(pod))
    if reason is None:
        raise MockLost(f"the mock LLM of pod {pod.id} exited with status {code} during the run")
    return reason


def _collect(pod, run_dir: Path, nb, record: nbrun.RunRecord, task, task_dir: Path) -> None:
    """5. Copy out outputs/ and the mock's log; write the notebook, run record, task and profile."""
    backend = sandbox.default_backend()
    try:
        skipped = backend.copy_out(pod, "/workspace/outputs", run_dir / rf.OUTPUTS_DIR, max_bytes=COPY_OUT_CAP)
    except WorksampleError as exc:  # the candidate removed or replaced outputs/: nothing to grade there
        skipped = [f"outputs: {exc}"]
    if skipped:
        record.errors.append(f"not copied out (links, special files or over the size cap): {', '.join(skipped[:5])}")
    _snapshot_mock_log(pod, run_dir / rf.MOCK_DIR)
    if nb is not None:
        import nbformat

        nbformat.write(nb, run_dir / rf.NOTEBOOK_FILE)
    (run_dir / rf.RUN_FILE).write_text(json.dumps(record.public()))
    (run_dir / rf.TASK_FILE).write_text(json.dumps(task.model_dump(mode="json")))
    profile = task.mock_llm.grading_profile if task.mock_llm else None
    data = yaml.safe_load((task_dir / str(profile)).read_text()) if profile else {}
    (run_dir / rf.PROFILE_FILE).write_text(json.dumps(data, default=str))
    for path in run_dir.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _snapshot_mock_log(pod, dest: Path) -> None:
    """Copy the mock's logs as they are now: calls made after the run ended are not graded.

    With a task service (DESIGN §14) its call log and final state come too: both are
    written by the mock container alone, into a dir the workload never mounts.
    """
    source = pod.mock_log_dir or pod.dir / "mock" / "log"
    # The mock writes these under the names the run folder keeps them by.
    for name in (rf.CALLS_FILE, rf.BODIES_FILE, rf.SERVICE_LOG_FILE, rf.SERVICE_STATE_FILE):
        path = source / name
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as src, (dest / name).open("wb") as out:
                out.write(src.read(MOCK_LOG_CAP))


def _run_grader(pod, run_dir: Path, result_dir: Path) -> dict:
    """6. Release the waiting grader, wait for it, read its result (size-capped JSON, validated)."""
    (run_dir / READY_FLAG).write_text("")
    code = sandbox.wait(pod, "grader", timeout=GRADER_TIMEOUT)
    if code is None:
        raise GraderFailed(f"the hidden suite did not finish within {GRADER_TIMEOUT:.0f}s")
    return read_result(result_dir / "result.json", code)


def read_result(path: Path, exit_code: int) -> dict:
    """The grader's result file, checked for shape; GraderFailed when absent or malformed."""
    if path.is_symlink() or not path.is_file():
        raise GraderFailed(f"the hidden suite wrote no result (grader exit {exit_code})")
    if path.stat().st_size > RESULT_CAP:
        raise GraderFailed("the hidden suite's result is larger than allowed")
    try:
        result = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise GraderFailed(f"the hidden suite's result is not JSON: {exc}") from None
    checks = result.get("checks") if isinstance(result, dict) else None
    if not isinstance(checks, list) or not all(isinstance(c, dict) and {"id", "status", "points", "max_points"} <= set(c)
                                                for c in checks):
        raise GraderFailed("the hidden suite's result has no valid checks list")
    return result
