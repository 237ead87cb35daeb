"""The grading pipeline with a real Redis, real worker processes and real grading pods.

Faults: a worker killed with SIGKILL mid-grading, Redis restarted with jobs
queued, the Docker engine unreachable (for good, and briefly). Whatever
happens, each submission ends with exactly one report.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow]

READ = "import csv, os\nrows = list(csv.DictReader(open('data/numbers.csv')))\ntotal = sum(int(r['n']) for r in rows)"
GOOD = "os.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write(str(total))\nprint('DONE')"


@pytest.fixture
def submit(db, mini_task, minitask, tmp_path):
    """submit(cells) → the id of a queued submission (row + artifacts), not yet enqueued."""
    from worksample.grading import submissions

    task = submissions.register_task(mini_task)

    def make(cells: list[str]) -> str:
        artifacts = tmp_path / f"sub{len(list(tmp_path.glob('sub*')))}"
        minitask.submission(artifacts / "workspace", cells)
        return submissions.create_submission(task, artifacts)

    return make


@pytest.fixture
def workers(worker_env, data_dir):
    """start(burst=False, env=None) → a worker process in its own session; all killed and pods removed after."""
    procs: list[subprocess.Popen] = []
    logs = []

    def start(burst: bool = False, env: dict | None = None) -> subprocess.Popen:
        argv = [sys.executable, "-m", "worksample", "worker", "--reap-every", "0"] + (["--burst"] if burst else [])
        logs.append(open(data_dir / f"worker{len(procs)}.log", "w"))
        proc = subprocess.Popen(argv, env=env or worker_env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=logs[-1])
        procs.append(proc)
        return proc

    yield start
    for log in logs:
        log.close()
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _remove_pods(data_dir)


def _remove_pods(data_dir: Path) -> None:
    """Remove this test platform's pods the way the reaper does (containers, mounts, host dirs)."""
    from worksample import sandbox

    for pod in sandbox.default_backend().list_pods():
        sandbox.remove(pod.id)


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants, like losing the worker's machine."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for child in children:
        _kill_tree(int(child))
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_status(submission_id: str, wanted: set[str], timeout: float) -> str:
    from worksample.grading import submissions

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = submissions.get_submission(submission_id).status.value
        if status in wanted:
            return status
        time.sleep(0.2)
    raise AssertionError(f"submission {submission_id} stayed {status}, wanted {wanted}")


def _reports(submission_id: str) -> list[int]:
    from worksample.grading import submissions

    return submissions.report_versions(submission_id)


def test_a_queued_submission_is_graded_once_by_a_worker(submit, workers):
    from worksample.grading import submissions
    from worksample.jobs.grading import enqueue_grading

    sid = submit([READ, GOOD])
    enqueue_grading(sid)
    enqueue_grading(sid)  # a duplicate job (e.g. the reconciler raced) must not make a second report
    workers(burst=True).wait(timeout=120)
    assert _wait_status(sid, {"graded", "error"}, 5) == "graded"
    assert _reports(sid) == [1]
    report = submissions.latest_report(sid)
    assert report.score == report.max_score == 20 and report.passed


def test_worker_killed_mid_grading_still_one_report(submit, workers, data_dir):
    from worksample.grading.grade import reconcile
    from worksample.jobs.grading import enqueue_grading

    sid = submit([READ, "import time\ntime.sleep(8)", GOOD])
    enqueue_grading(sid)
    first = workers()
    _wait_status(sid, {"running"}, 60)
    time.sleep(2)  # inside the notebook run
    _kill_tree(first.pid)  # the worker and its work-horse (RQ puts the horse in its own session)
    first.wait()
    _remove_pods(data_dir)  # what the reaper does for a dead worker's pod
    assert reconcile(running_after=11) == []  # the heartbeat was fresh a moment ago
    time.sleep(12)  # longer than a heartbeat interval: a live worker would have beaten by now
    assert reconcile(running_after=11) == [sid]
    workers(burst=True).wait(timeout=120)
    assert _wait_status(sid, {"graded", "error"}, 5) == "graded"
    assert _reports(sid) == [1]


def test_redis_restart_with_jobs_queued_loses_nothing(submit, workers, redis_url, tmp_path):
    from worksample.grading.grade import reconcile
    from worksample.jobs import _redis
    from worksample.jobs.grading import enqueue_grading, queued_job_count

    sid = submit([READ, GOOD])
    enqueue_grading(sid)
    assert queued_job_count() == 1
    assert reconcile(queued_after=0) == []  # its job still waits: no duplicate
    sock = redis_url.removeprefix("unix://")
    subprocess.run(["redis-cli", "-s", sock, "shutdown", "nosave"], capture_output=True)
    restarted = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly",
                                  "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        _redis.cache_clear()
        time.sleep(0.5)
        assert queued_job_count() == 0  # the job went with the old Redis
        assert _wait_status(sid, {"queued"}, 1) == "queued"  # the database still knows
        assert reconcile(queued_after=0) == [sid]
        workers(burst=True).wait(timeout=120)
        assert _wait_status(sid, {"graded", "error"}, 5) == "graded"
        assert _reports(sid) == [1]
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)


class DockerProxy:
    """A unix-socket proxy to the real engine that can be switched on later: Docker 'comes back'."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection("/var/run/docker.sock")
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def start(self) -> None:
        async def serve():
            self.server = await asyncio.start_unix_server(self._handle, path=str(self.path))
        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(5)

    def stop(self) -> None:
        if hasattr(self, "server"):
            self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()


def test_docker_briefly_down_is_retried_then_graded(submit, workers, worker_env, tmp_path):
    from worksample.grading import submissions
    from worksample.jobs.grading import enqueue_grading

    proxy = DockerProxy(Path("/tmp") / f"wsdock-{os.getpid()}.sock")
    env = {**worker_env, "DOCKER_HOST": f"unix://{proxy.path}"}
    sid = submit([READ, GOOD])
    enqueue_grading(sid)
    workers(env=env)
    try:
        deadline = time.monotonic() + 30
        while submissions.get_submission(sid).tries < 1 or submissions.get_submission(sid).status.value != "queued":
            assert time.monotonic() < deadline, "the first try never failed"
            time.sleep(0.2)
        assert "Docker" in (submissions.get_submission(sid).error or "")
        proxy.start()  # the engine is back before the retry (5 s later)
        assert _wait_status(sid, {"graded", "error"}, 90) == "graded"
        assert submissions.get_submission(sid).tries == 2
        assert _reports(sid) == [1]
    finally:
        proxy.stop()
        proxy.path.unlink(missing_ok=True)


def test_docker_down_for_good_ends_in_a_clear_error(submit, workers, worker_env):
    from worksample.grading import submissions
    from worksample.jobs.grading import enqueue_grading

    env = {**worker_env, "DOCKER_HOST": "unix:///tmp/no-docker-here.sock"}
    sid = submit([READ, GOOD])
    enqueue_grading(sid)
    workers(env=env)
    assert _wait_status(sid, {"graded", "error"}, 60) == "error"
    sub = submissions.get_submission(sid)
    assert sub.tries == submissions.MAX_TRIES
    report = submissions.latest_report(sid)
    assert _reports(sid) == [1] and report.body["run"]["status"] == "error"
    assert "gave up after 3 tries" in report.body["error"] and "Docker" in report.body["error"]


def _running(data_dir: Path, role: str) -> list[str]:
    return subprocess.run(["docker", "ps", "-q", "--filter", f"label=worksample.data_dir={data_dir}",
                           "--filter", f"label=worksample.role={role}"], capture_output=True, text=True).stdout.split()


def _running_mocks(data_dir: Path) -> list[str]:
    """The mock containers of this test's platform, once a grading pod has started (and 2 s more).

    Started means its workload runs too: a mock lost before that is a pod that failed to
    start (PodStartError), which is retried as well but is not what these tests are about.
    """
    deadline = time.monotonic() + 90
    mocks: list[str] = []
    while not (mocks and _running(data_dir, "workload")) and time.monotonic() < deadline:
        time.sleep(0.5)
        mocks = _running(data_dir, "mock")
    time.sleep(2)
    return mocks


# jupyter_client makes an event loop per thread and never closes it; grading runs in a thread only here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_mock_lost_mid_run_is_retried_not_blamed_on_the_candidate(submit, data_dir):
    from worksample.grading import submissions
    from worksample.grading.grade import InfrastructureFault, grade_submission

    sid = submit([READ, "import time\ntime.sleep(15)", GOOD])
    outcome: dict = {}

    def grade() -> None:
        try:
            outcome["body"] = grade_submission(sid, labels={"worksample.test": "1"})
        except InfrastructureFault as exc:
            outcome["fault"] = exc

    thread = threading.Thread(target=grade)
    thread.start()
    mocks = _running_mocks(data_dir)
    subprocess.run(["docker", "rm", "-f", *mocks], capture_output=True)  # the platform loses the mock
    thread.join(timeout=60)
    assert "fault" in outcome and "mock LLM" in str(outcome["fault"])
    sub = submissions.get_submission(sid)
    assert sub.status.value == "queued" and "MockLost" in sub.error  # back in the queue for a retry
    assert _reports(sid) == []
    _remove_pods(data_dir)
    import gc

    gc.collect()  # let the thread's leftovers go now, under this test's warning filter


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # as above
def test_mock_stopped_by_the_candidates_own_traffic_is_graded_not_retried(submit, data_dir):
    """The mock stops itself (exit 3, `stopped.reason == "memory"` in mock.json) when the run's own
    traffic exhausts it: that is the candidate's outcome, a report with a score, never a retry."""
    import json

    from worksample.grading import submissions
    from worksample.grading.grade import grade_submission

    sid = submit([READ, "import time\ntime.sleep(15)", GOOD])
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(body=grade_submission(sid, labels={"worksample.test": "1"})))
    thread.start()
    mocks = _running_mocks(data_dir)
    mounts = json.loads(subprocess.run(["docker", "inspect", "-f", "{{json .Mounts}}", mocks[0]],
                                       capture_output=True, text=True).stdout)
    log_dir = Path(next(m["Source"] for m in mounts if m["Destination"] == "/mock/log"))
    deadline = time.monotonic() + 60  # the mock writes mock.json once it has loaded (slow under load)
    while not (log_dir / "mock.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    state = json.loads((log_dir / "mock.json").read_text())
    state["stopped"] = {"reason": "memory", "exit_status": 3}  # what the mock's memory guard records
    (log_dir / "mock.json").write_text(json.dumps(state))
    subprocess.run(["docker", "kill", mocks[0]], capture_output=True)  # and the mock is gone
    thread.join(timeout=120)
    assert outcome.get("body"), "no report: the grading raised"
    sub = submissions.get_submission(sid)
    assert sub.status.value == "graded"
    body = submissions.latest_report(sid).body
    assert body["run"]["status"] == "crashed"
    assert any("exhausted the mock" in e for e in body["run"]["errors"]), body["run"]["errors"]
    assert _reports(sid) == [1]
    _remove_pods(data_dir)
    import gc

    gc.collect()  # let the thread's leftovers go now, under this test's warning filter
