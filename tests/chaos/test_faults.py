"""Faults with real components while gradings are queued and running (issue 13's fault suite).

Slow (a grading pod per submission, reconciler waits of a minute, retries):
they run when WORKSAMPLE_CHAOS=1, which `bench/chaos.py` sets; CI runs the
fast process-level checks in tests/integration/platform instead. The dockerd
restart runs against a private second dockerd that the test starts (root
needed; the shared engine is never restarted), with the images copied in.
Each scenario records what it saw (`record`) for bench/chaos.py's table
before it asserts.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from chaos_harness import GOOD, READ, assert_one_report_each, grading_containers, record, wait_final, wait_status

from worksample.supervisor import descendants

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("WORKSAMPLE_CHAOS") != "1",
                                 reason="fault suite: run by bench/chaos.py (WORKSAMPLE_CHAOS=1)")]


def _settle_containers(data_dir: Path, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := grading_containers(data_dir)) and time.monotonic() < deadline:
        time.sleep(1)
    return left


@pytest.mark.timeout(600)
def test_worker_kill9_mid_grading(submit, workers, data_dir):
    """The horse dies with its worker; the lost run's pod is removed; the grading is redone: one report."""
    slow = submit([READ, "import time\ntime.sleep(10)", GOOD])
    other = submit([READ, GOOD])
    first = workers(reap_every=5)
    assert wait_status(slow, {"running"}, 180) == "running"
    time.sleep(3)  # inside the notebook run
    below = descendants(first.pid)
    assert below, "the worker has no work horse"
    os.kill(first.pid, signal.SIGKILL)  # the worker only: its horse must not outlive it
    first.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() and _not_zombie(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {p: Path(f"/proc/{p}/cmdline").read_bytes()[:120] for p in below if _not_zombie(p)}
    assert not left, f"orphans outlived the killed worker: {left}"
    workers(reap_every=5)  # its reconciler re-queues the stale run after STALE_RUNNING_S
    statuses = wait_final([slow, other], 420)
    record([slow, other], data_dir, orphans=_settle_containers(data_dir) + list(left))
    assert statuses == {slow: "graded", other: "graded"}, statuses
    assert_one_report_each([slow, other])
    assert not _settle_containers(data_dir), "grading pods left behind"


@pytest.mark.timeout(600)
def test_redis_killed_and_restarted_under_a_live_worker(submit, workers, worker_env, tmp_path, data_dir, monkeypatch):
    """Redis (with its append-only file, as `up` runs it) is SIGKILLed mid-grading and restarted."""
    from worksample.config import get_settings
    from worksample.jobs import _redis
    from worksample.redis_server import wait_ready

    rdir = tmp_path / "aof"
    rdir.mkdir()
    sock = rdir / "r.sock"
    argv = ["redis-server", "--port", "0", "--unixsocket", str(sock), "--dir", str(rdir), "--appendonly", "yes",
            "--appendfsync", "always", "--save", ""]
    redis = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    url = f"unix://{sock}"
    wait_ready(url)
    monkeypatch.setenv("REDIS_URL", url)
    get_settings.cache_clear()
    _redis.cache_clear()
    try:
        sids = [submit([READ, "import time\ntime.sleep(6)", GOOD]) for _ in range(2)]
        worker = workers(reap_every=5, env={**worker_env, "REDIS_URL": url})
        assert wait_status(sids[0], {"running"}, 180) == "running"
        redis.kill()
        redis.wait()
        time.sleep(3)
        redis = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        wait_ready(url)
        statuses = wait_final(sids, 420)
        record(sids, data_dir, orphans=_settle_containers(data_dir))
        assert statuses == dict.fromkeys(sids, "graded"), statuses
        assert_one_report_each(sids)
        assert worker.poll() is None, "the worker died with Redis"
        assert not _settle_containers(data_dir), "grading pods left behind"
    finally:
        redis.terminate()
        redis.wait(timeout=10)
        _redis.cache_clear()


@pytest.mark.timeout(900)
def test_api_killed_while_grading_and_a_deadline_passes_while_down(submit, workers, redis_url, data_dir, tmp_path):
    """`serve` SIGKILLed with a two-minute attempt open and gradings running; the attempt's deadline passes
    while it is down. Back up, it submits the attempt with what was saved in time; every submission
    (the two queued and the attempt's) ends in one report; no pod is left."""
    import httpx
    from attempts_harness import Platform, attempt_pods, cleanup

    from worksample.grading import submissions

    sids = [submit([READ, "import time\ntime.sleep(20)", GOOD]) for _ in range(2)]
    folder = tmp_path / "tasks" / "mini-task"
    (folder / "task.yaml").write_text((folder / "task.yaml").read_text().replace("time_limit: 2h", "time_limit: 2m"))
    submissions.register_task(folder)
    platform = Platform(data_dir=data_dir, tasks_dir=tmp_path / "tasks", redis_url=redis_url)
    platform.start()
    try:
        started, cookie = platform.start_attempt(platform.invite(platform.admin_token(), "mini-task")["token"])
        attempt_id = started["attempt_id"]
        with platform.candidate(cookie) as client:
            resp = client.put(f"/w/{attempt_id}/api/contents/early.txt",
                              json={"type": "file", "format": "text", "content": "in time"})
            assert resp.status_code in (200, 201), resp.text
            deadline = client.get(f"/api/v1/attempts/{attempt_id}").json()["deadline_ts"]
        workers(reap_every=5)
        assert wait_status(sids[0], {"running"}, 240) == "running"
        platform.stop(signal.SIGKILL)  # the API crashes mid-attempt and mid-grading
        while time.time() < deadline + 5:  # ...and is still down at the deadline
            time.sleep(0.5)
        platform.start()
        state: dict = {}
        with httpx.Client(base_url=platform.url, cookies={"ws_attempt": cookie}, timeout=30) as client:
            end = time.monotonic() + 120
            while time.monotonic() < end and state.get("status", "running") == "running":
                state = client.get(f"/api/v1/attempts/{attempt_id}").json()
                time.sleep(0.5)
        all_ids = sids + ([state["submission_id"]] if state.get("submission_id") else [])
        statuses = wait_final(all_ids, 600)
        saved = data_dir / "submissions" / str(state.get("submission_id")) / "workspace" / "early.txt"
        kept = saved.is_file() and saved.read_text() == "in time"
        left = _settle_containers(data_dir) + [c["ID"] for c in attempt_pods(attempt_id)]
        record(all_ids, data_dir, lost=int(not kept) + (len(all_ids) < 3), orphans=left)
        assert state.get("status") == "expired", state
        assert statuses == dict.fromkeys(all_ids, "graded"), statuses
        assert_one_report_each(all_ids)
        assert kept, "the file saved before the deadline is not in the submission"
        assert not left, f"containers left behind: {left}"
    finally:
        platform.stop()
        cleanup(data_dir, failed=False)


@pytest.mark.timeout(600)
def test_database_briefly_locked(submit, workers, data_dir):
    """An exclusive lock on the SQLite file for a few seconds mid-grading: every grading still ends once."""
    sids = [submit([READ, "import time\ntime.sleep(4)", GOOD]) for _ in range(2)]
    workers(reap_every=5)
    assert wait_status(sids[0], {"running"}, 180) == "running"
    lock = sqlite3.connect(data_dir / "worksample.db", timeout=30, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    time.sleep(4)
    lock.execute("ROLLBACK")
    lock.close()
    statuses = wait_final(sids, 420)
    left = _settle_containers(data_dir)
    record(sids, data_dir, orphans=left)
    assert statuses == dict.fromkeys(sids, "graded"), statuses
    assert_one_report_each(sids)
    assert not left, "grading pods left behind"


# Candidate code that floods its mock without exhausting its own kernel: 120 connections each
# announce a 2 MiB body and stream it in 64 KiB pieces (a 30 MB body built in memory per thread,
# as an earlier version of this scenario did, OOM-killed the 512 MiB kernel before the mock felt anything).
MOCK_FLOOD = (
    "import os, socket, threading, urllib.request, json\n"
    "from urllib.parse import urlsplit\n"
    "u = urlsplit(os.environ['OPENAI_BASE_URL'])\n"
    "key = os.environ.get('OPENAI_API_KEY', 'k')\n"
    "head = ('POST /v1/chat/completions HTTP/1.1\\r\\nhost: x\\r\\nauthorization: Bearer ' + key +\n"
    "        '\\r\\ncontent-type: application/json\\r\\ncontent-length: 2097151\\r\\n\\r\\n').encode()\n"
    "held = []\n"
    "def one():\n"
    "    try:\n"
    "        s = socket.create_connection((u.hostname, u.port), timeout=15)\n"
    "        held.append(s)\n"
    "        s.sendall(head + b'{')\n"
    "        for _ in range(31):\n"
    "            s.sendall(b' ' * 65536)\n"
    "    except OSError:\n"
    "        pass\n"
    "threads = [threading.Thread(target=one) for _ in range(120)]\n"
    "[t.start() for t in threads]; [t.join() for t in threads]\n"
    "[s.close() for s in held]\n"
    "req = urllib.request.Request(os.environ['OPENAI_BASE_URL'] + '/chat/completions', headers={\n"
    "    'Authorization': 'Bearer ' + key, 'Content-Type': 'application/json'},\n"
    "    data=json.dumps({'model': 'atlas-mini', 'messages': [{'role': 'user', 'content': 'still there?'}]}).encode())\n"
    "for _ in range(20):\n"
    "    try:\n"
    "        urllib.request.urlopen(req, timeout=20).read(); print('MOCK-ALIVE'); break\n"
    "    except Exception as exc:\n"
    "        import time; time.sleep(1)\n"
)


@pytest.mark.timeout(600)
def test_mock_flooded_by_candidate_code_sheds_load_and_survives(submit, workers, data_dir):
    """A flood of big bodies from the notebook: the mock sheds it (503) and keeps answering; graded once, no retry."""
    import json

    from worksample.grading import submissions

    sid = submit([MOCK_FLOOD, READ, GOOD])
    workers(reap_every=5)
    statuses = wait_final([sid], 420)
    sub = submissions.get_submission(sid)
    report = submissions.latest_report(sid)
    body = report.body if report else {}
    notebook = Path(body.get("run_dir", "/nonexistent")) / "notebook.ipynb"
    alive = notebook.is_file() and "MOCK-ALIVE" in notebook.read_text()
    left = _settle_containers(data_dir)
    record([sid], data_dir, orphans=left, tries=sub.tries, run=body.get("run", {}).get("status"))
    assert statuses[sid] == "graded", (statuses, body.get("error"))
    assert not left, "grading pods left behind"
    assert_one_report_each([sid])
    assert sub.tries == 1, "a flood the mock survived was retried"
    assert body["run"]["status"] == "completed", body["run"]
    assert alive, "the mock did not answer after the flood"
    assert body["score"] == body["max_score"], json.dumps(body["checks"])[:2000]


# The task's oracle has a crash bug (a fault in native code) that one prompt reaches: the candidate's
# code finds it and sends that prompt on purpose. Nothing in the run can tell this from a mock the
# platform lost, so the grading is retried, a bounded number of times, and then ends in one report saying so.
CRASHING_ORACLE = '''
import ctypes
from worksample.mockllm.oracle import OracleAnswer


def make_oracle(ctx):
    def answer(request):
        if "CRASH-THE-MOCK" in str(request.messages):
            ctypes.string_at(0)  # SIGSEGV in the mock's process
        return OracleAnswer(content="ok")

    return answer
'''
CRASH_CALLS = (
    "import os, json, urllib.request\n"
    "req = urllib.request.Request(os.environ['OPENAI_BASE_URL'] + '/chat/completions', headers={\n"
    "    'Authorization': 'Bearer ' + os.environ.get('OPENAI_API_KEY', 'k'), 'Content-Type': 'application/json'},\n"
    "    data=json.dumps({'model': 'atlas-mini', 'messages': [{'role': 'user', 'content': 'CRASH-THE-MOCK'}]}).encode())\n"
    "for _ in range(30):\n"
    "    try:\n"
    "        urllib.request.urlopen(req, timeout=5).read()\n"
    "    except Exception:\n"
    "        pass\n"
)


@pytest.mark.timeout(900)
def test_mock_crashed_on_purpose_by_candidate_code(submit, workers, data_dir, tmp_path):
    """Candidate code crashes its mock: bounded tries, then one report that says what happened; no pod left."""
    from worksample.grading import submissions

    (tmp_path / "tasks" / "mini-task" / "oracle.py").write_text(CRASHING_ORACLE)
    sid = submit([READ, CRASH_CALLS, GOOD])
    began = time.monotonic()
    workers(reap_every=5)
    statuses = wait_final([sid], 780)
    took = time.monotonic() - began
    sub = submissions.get_submission(sid)
    report = submissions.latest_report(sid)
    body = report.body if report else {}
    left = _settle_containers(data_dir)
    record([sid], data_dir, orphans=left, tries=sub.tries, status=statuses[sid])
    assert statuses[sid] == "error", statuses  # never graded as if the run had been clean; never an endless loop
    assert not left, "grading pods left behind"
    assert_one_report_each([sid])
    assert sub.tries == submissions.MAX_TRIES, f"{sub.tries} tries"
    error = body.get("error", "")
    assert "mock" in error.lower() and f"{submissions.MAX_TRIES} tries" in error, error
    assert took < 600, f"{took:.0f} s to give up"


@pytest.fixture
def private_engine(data_dir, monkeypatch):
    """A second dockerd of our own with the sandbox images, as DOCKER_HOST; removed after (docker0 checked)."""
    from private_engine import PrivateEngine, docker0_present

    from worksample.config import get_settings
    from worksample.images import require
    from worksample.sandbox.engine import reset_client

    had_docker0 = docker0_present()
    refs = [require(name) for name in ("notebook", "grader", "mockllm")]  # tags of the main engine
    engine = PrivateEngine(data_dir / "dockerd2.log")
    try:
        engine.start()
        engine.load_images(refs)
        monkeypatch.setenv("DOCKER_HOST", engine.host)
        get_settings.cache_clear()
        reset_client()
        yield engine
    finally:
        engine.remove()
        monkeypatch.undo()
        get_settings.cache_clear()
        reset_client()
        assert docker0_present() == had_docker0, "the main engine's docker0 bridge went away"


@pytest.mark.timeout(1500)
def test_dockerd_restarted(private_engine, submit, workers, worker_env, redis_url, data_dir, tmp_path):
    """The engine restarts (every container dies) with an attempt open and gradings running and queued:
    the attempt resumes in a new pod with its saved work, the gradings are retried, one report each, no pod left."""
    import httpx
    from attempts_harness import Platform, attempt_pods

    from worksample.grading import submissions

    sids = [submit([READ, "import time\ntime.sleep(20)", GOOD]) for _ in range(2)]
    platform = Platform(data_dir=data_dir, tasks_dir=tmp_path / "tasks", redis_url=redis_url)
    platform.start()
    try:
        started, cookie = platform.start_attempt(platform.invite(platform.admin_token(), "mini-task")["token"])
        attempt_id = started["attempt_id"]
        pod_json = data_dir / "attempts" / attempt_id / "pod.json"
        first_pod = json.loads(pod_json.read_text())["pod_id"]
        with platform.candidate(cookie) as client:
            resp = client.put(f"/w/{attempt_id}/api/contents/notes.txt",
                              json={"type": "file", "format": "text", "content": "keep me"})
            assert resp.status_code in (200, 201), resp.text
        # as `up` runs them: a worker holds jobs back while its engine restarts
        workers(reap_every=5, env={**worker_env, "DOCKER_HOST": private_engine.host,
                                   "WORKSAMPLE_WORKER_ENGINE_GRACE_S": "120"})
        assert wait_status(sids[0], {"running"}, 240) == "running"
        time.sleep(4)  # inside the notebook run
        down_s = private_engine.restart()
        statuses = wait_final(sids, 900)
        # The candidate comes back (the browser retries): the workspace resumes in a new pod.
        deadline = time.monotonic() + 180
        note = None
        with platform.candidate(cookie) as client:
            while time.monotonic() < deadline:
                resp = client.get(f"/w/{attempt_id}/api/contents/notes.txt")
                if resp.status_code == 200:
                    note = resp.json()["content"]
                    break
                time.sleep(2)
        second_pod = json.loads(pod_json.read_text())["pod_id"]
        left = _settle_containers(data_dir, timeout=120)
        attempt_containers = attempt_pods(attempt_id)
        stale = [c for c in attempt_containers if first_pod in c["Names"]]
        record(sids, data_dir, lost=int(note != "keep me"), orphans=left + stale, engine_down_s=round(down_s, 1),
               tries={sid: submissions.get_submission(sid).tries for sid in sids})
        assert statuses == dict.fromkeys(sids, "graded"), (statuses, [submissions.get_submission(s).error for s in sids])
        assert_one_report_each(sids)
        assert note == "keep me", "the saved file did not come back"
        assert second_pod != first_pod
        assert not left, f"grading pods left behind: {left}"
        assert not stale, f"the dead pod of the attempt was left behind: {stale}"
        assert httpx.get(platform.url + "/healthz", timeout=10).status_code == 200
    finally:
        platform.stop()
        from attempts_harness import cleanup

        cleanup(data_dir, failed=False)


def _not_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
