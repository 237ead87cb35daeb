"""The worker process: an RQ worker on our queues, a watchdog, and a sandbox reaper beside it.

Forking is where grading used to stall: RQ's default worker `fork()`s a work
horse per job, and a horse forked while another thread held an import lock
(the reaper thread, importing a module the job needed) waited for it forever.
So here:

1. the work horse is *spawned* (`posix_spawn` of a fresh interpreter, RQ's
   SpawnWorker): it inherits no lock of any thread;
2. the reaper and the grading reconciler run in their own process, not in a
   thread of the worker, so no thread of ours is alive when RQ forks its
   scheduler;
3. the watchdog (`worksample.jobs.watchdog`) kills a horse that shows no
   progress for `WORKSAMPLE_JOB_STALL_S` and records it for operators.

SIGTERM or SIGINT stops the worker at once: the running horse (and its process
group) is killed and the job is left for the queue's retry and the grading
reconciler; a warm stop could wait out a 15-minute grading.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing.util
import os
import signal
import subprocess
import sys
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.worker import SpawnWorker

from worksample.jobs import DEFAULT_QUEUE, GRADING_QUEUE, connection, watchdog

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
MONITOR_S = 5  # how often the worker looks at its horse (RQ's job_monitoring_interval)
ENGINE_POLL_S = 2.0  # how often a worker whose Docker engine is down asks again
DEAD_POD_GRACE_S = 30.0  # a pod whose containers have all exited is removed once this old (never mid-create)


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies; exit now if it already has."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class WorksampleWorker(SpawnWorker):
    """RQ's spawn-style worker plus a progress watchdog and an immediate stop."""

    def __init__(self, *args, **kwargs) -> None:
        from worksample.config import get_settings

        super().__init__(*args, **kwargs)
        # Read here, not passed in: RQ rebuilds the worker inside the spawned horse from its class alone.
        self.stall_after = get_settings().job_stall_s
        self.job_monitoring_interval = max(1, min(MONITOR_S, int(self.stall_after / 3)))
        self._horse_started = time.time()
        self._burst = False
        self.waits_for_engine = get_settings().worker_waits_for_engine
        # A lone host's worker waits this long for its engine: a dockerd restart (seconds) then costs a grading
        # no try, and an engine that stays down still ends gradings in a clear error.
        self.engine_grace_s = get_settings().worker_engine_grace_s
        self._engine_gave_up_until = 0.0  # monotonic time until which a lone host's worker does not wait again

    # --- in the worker's main process ---

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Take the next job only while this host's Docker engine answers (RQ calls this between jobs).

        A worker serves the engine of its own host (DOCKER_HOST). With that engine down every
        grading it took would fail and spend one of the submission's tries, so it holds back
        (heartbeating, so it is not taken for dead) and takes jobs again as soon as its engine
        answers. With WORKSAMPLE_WORKER_WAITS_FOR_ENGINE (several hosts) it holds back for as long
        as it takes, and the workers of other hosts drain the queue; a lone host's worker holds
        back for WORKSAMPLE_WORKER_ENGINE_GRACE_S at most (an engine restart; `up` sets 120 s), then
        its gradings fail and say so (0: no holding back). A burst worker does not wait.
        """
        if not self._burst and (self.waits_for_engine or self.engine_grace_s > 0):
            self._wait_for_engine(None if self.waits_for_engine else self.engine_grace_s)
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def _wait_for_engine(self, at_most: float | None) -> None:
        from worksample.health import docker_status  # no docker import outside sandbox/

        status = docker_status()
        if status == "ok" or (at_most is not None and time.monotonic() < self._engine_gave_up_until):
            return
        self.log.warning("worker %s: not taking jobs until the Docker engine answers%s: %s", self.name,
                         "" if at_most is None else f" (at most {at_most:.0f} s)", status)
        until = None if at_most is None else time.monotonic() + at_most
        while status != "ok":
            if until is not None and time.monotonic() > until:
                # Down for good, it seems: take jobs (they end in a clear error) and ask again only
                # after another grace period, so a dead engine does not hold every job back each time.
                self._engine_gave_up_until = time.monotonic() + at_most
                self.log.error("worker %s: the Docker engine has not answered for %.0f s; taking jobs again: %s",
                               self.name, at_most, status)
                return
            self.heartbeat()
            time.sleep(ENGINE_POLL_S)
            status = docker_status()
        self.log.info("worker %s: the Docker engine answers again; taking jobs", self.name)

    def work(self, burst: bool = False, *args, **kwargs):
        """RQ's work loop; remembers `burst` for the engine gate."""
        self._burst = burst
        return super().work(burst, *args, **kwargs)

    def fork_work_horse(self, job, queue) -> None:
        """Spawn the horse (RQ); remember when, so a horse that never reports is seen as stalled."""
        watchdog.forget(self.connection, job.id)
        self._horse_started = time.time()
        super().fork_work_horse(job, queue)

    def maintain_heartbeats(self, job, execution) -> None:
        """RQ calls this every monitoring interval while the horse runs: heartbeats, then the watchdog.

        Redis away for a moment (restarted) is no reason to stop: RQ would end the worker; we wait
        for the next interval. The horse goes on; the database holds the truth.
        """
        try:
            super().maintain_heartbeats(job, execution)
            self._watch(job)
        except RedisConnectionError as exc:
            self.log.warning("worker %s: Redis unreachable during job %s (%s); retrying", self.name, job.id, exc)

    def _watch(self, job) -> None:
        stage, silent = watchdog.silent_for(self.connection, job.id, self._horse_started)
        if silent > self.stall_after and self.horse_pid:
            stall = watchdog.Stall(job_id=job.id, description=job.description or job.func_name, stage=stage,
                                   silent_s=round(silent, 1), horse_pid=self.horse_pid, at=time.time())
            watchdog.record_stall(self.connection, stall)
            job.meta["watchdog"] = f"no progress for {stall.silent_s:.0f} s in stage {stage!r}; work horse killed"
            job.save_meta()
            self.kill_horse(signal.SIGKILL)

    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._stop_now)
        signal.signal(signal.SIGTERM, self._stop_now)

    def _stop_now(self, signum, _frame) -> None:
        self.log.info("worker %s: %s: stopping; a running job is interrupted and retried later",
                      self.name, signal.Signals(signum).name)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if self.horse_pid:
            self.kill_horse(signal.SIGKILL)
            self.wait_for_horse()
        raise SystemExit(0)

    def unsubscribe(self) -> None:
        """Leave the command channel without joining its thread (RQ waits up to 1 s for a daemon thread)."""
        if self.pubsub_thread:
            self.pubsub_thread.stop()  # no close(): the thread may be reading; the process is about to exit

    # --- in the work horse ---

    def main_work_horse(self, job, queue) -> None:
        """The horse's entry point: die with the worker, then run the job (RQ)."""
        die_with_parent()
        super().main_work_horse(job, queue)

    def perform_job(self, job, queue, execution) -> bool:
        """Report progress around RQ's perform_job: importing the job's code, then beats while it runs."""
        watchdog.mark(self.connection, job.id, "importing")
        try:
            job.func  # import now, so a stuck import shows as a stall in stage 'importing'
        except Exception:  # an import error is the job's failure; RQ's perform_job records it
            pass
        watchdog.mark(self.connection, job.id, "running")
        with watchdog.Beat(self.connection, job.id, every=min(watchdog.BEAT_S, self.stall_after / 4)):
            return super().perform_job(job, queue, execution)


def _reaper_process(reap_every: float) -> subprocess.Popen | None:
    """The reaper and reconciler in a process of their own (dies with the worker)."""
    if reap_every <= 0:
        return None
    code = f"from worksample.jobs.worker import reaper_main; reaper_main({float(reap_every)!r})"
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)


def reaper_main(every: float) -> None:
    """Entry point of the reaper process: reconcile now, then reap and reconcile every `every` s."""
    die_with_parent(signal.SIGTERM)
    _configure_logging()
    signal.signal(signal.SIGTERM, lambda *_: _exit_now(0))
    from worksample.webhooks.delivery import reconcile as reconcile_webhooks  # H6: overdue webhook tries
    from worksample.workspace.deadlines import reap_pods  # attempt pods follow the database, then the reaper

    _pass("grading reconciler", _reconcile)  # submissions left queued/running by a lost worker or Redis
    _pass("webhook reconciler", reconcile_webhooks)
    while True:
        time.sleep(every)
        _pass("sandbox reaper", reap_pods)  # must outlive a flaky engine or database: the next pass retries
        _pass("dead pod sweep", remove_dead_pods)
        _pass("grading reconciler", _reconcile)
        _pass("webhook reconciler", reconcile_webhooks)


def _reconcile() -> None:
    """Re-queue lost gradings (H1's reconciler), then remove the pods their dead runs left behind.

    A worker killed mid-grading leaves its grading pod running until the pod's
    deadline; once its submission is back in the queue no run owns that pod.
    Only pods older than this pass are removed, so a new run's pod is never touched.
    """
    from worksample import sandbox
    from worksample.grading.grade import reconcile

    began = time.time()
    for submission_id in reconcile():
        for pod in sandbox.default_backend().list_pods(labels={"worksample.submission": submission_id}):
            if pod.created < began:
                log.info("removing pod %s of a lost grading run of submission %s", pod.id, submission_id)
                sandbox.remove(pod.id)


def remove_dead_pods(now: float | None = None) -> list[str]:
    """Remove pods whose every container has exited (an engine restart kills them all); their ids.

    The platform never restarts a container, so such a pod serves no one: an attempt whose pod died
    gets a new one on the candidate's next request (with the same workspace), and a grading whose pod
    died is retried in a new pod. Left alone they would wait for their deadline, which is hours for
    an attempt's, holding the pod's /ipc mount and directory meanwhile.
    """
    from worksample import sandbox

    now = time.time() if now is None else now
    removed = []
    for pod in sandbox.default_backend().list_pods():
        if pod_is_dead(pod, now):
            log.info("removing pod %s: every container of it has exited", pod.id)
            sandbox.remove(pod.id)
            removed.append(pod.id)
    return removed


def pod_is_dead(pod, now: float) -> bool:
    """True if every container of `pod` (a sandbox PodInfo) has exited and the pod is past its creation."""
    return bool(pod.states) and all(state in ("exited", "dead") for state in pod.states.values()) \
        and now - pod.created > DEAD_POD_GRACE_S


def _pass(name: str, func) -> None:
    try:
        func()
    except Exception:  # Redis, Docker or the database away: the next pass retries
        log.exception("%s pass failed", name)


def _exit_now(code: int) -> None:
    """Flush what we wrote and leave without interpreter teardown (seconds for ~800 modules on a busy host)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run_worker(burst: bool = False, reap_every: float = 30.0) -> None:
    """Work the grading and default queues until stopped (or empty with `burst`)."""
    _configure_logging()
    # RQ forks its scheduler with multiprocessing: make it die with us too (SIGTERM: it releases its locks).
    multiprocessing.util.register_after_fork(WorksampleWorker, lambda _cls: die_with_parent(signal.SIGTERM))
    conn = connection()
    worker = WorksampleWorker([Queue(GRADING_QUEUE, connection=conn), Queue(DEFAULT_QUEUE, connection=conn)],
                              connection=conn)
    reaper = None if burst else _reaper_process(reap_every)
    stopped = False
    try:
        worker.work(burst=burst, with_scheduler=True)
    except SystemExit:  # our signal handler: stop now
        stopped = True
    finally:
        if reaper is not None:
            reaper.terminate()
            try:
                reaper.wait(timeout=5)
            except subprocess.TimeoutExpired:
                reaper.kill()
                reaper.wait()
    if stopped:
        _exit_now(0)
