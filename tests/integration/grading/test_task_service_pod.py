"""Task services in a real grading pod (issue 16, DESIGN §14).

One grading of a small task that ships a service.py shows, from both sides:
- the candidate's code reaches the service on 127.0.0.1:8081, with fresh state
  (the first refund of the run gets id 1);
- the workload finds none of the service's code, log or state anywhere in its
  filesystem, and no process of the mock in its pid namespace;
- the hidden suite gets `service_log` (every call, with its Idempotency-Key and
  status) and `service_state` (the final ledger) through the run folder.
A second grading, whose notebook makes the service crash, ends in MockLost (an
infrastructure fault the queue retries), never in a score.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SERVICE = Path(__file__).resolve().parents[1] / "mockllm" / "data" / "service_refunds.py"

CALLS = '''
import json, os, urllib.request, urllib.error
def call(method, path, body=None, key=None):
    req = urllib.request.Request("http://127.0.0.1:8081" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Idempotency-Key": key} if key else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
answers = [call("POST", "/refunds", {"order": 7, "amount": 12}, "k1"),
           call("POST", "/refunds", {"order": 7, "amount": 12}, "k1"),
           call("POST", "/refunds", {"order": 9, "amount": 3})]
os.makedirs("outputs", exist_ok=True)
json.dump(answers, open("outputs/answers.json", "w"))
print(answers)
'''

# Look everywhere the workload can: file names, and the processes it can see.
HUNT = '''
import os, json
names = {"service.py", "service_refunds.py", "service.jsonl", "service_state.json", "calls.jsonl", "mock.json"}
found, walked = [], 0
stack = [("/", 0)]
while stack:
    top, depth = stack.pop()
    try:
        entries = list(os.scandir(top))
    except OSError:
        continue
    for e in entries:
        walked += 1
        if e.name in names:
            found.append(e.path)
        if e.is_dir(follow_symlinks=False) and depth < 12 and e.path not in ("/proc", "/sys", "/dev"):
            stack.append((e.path, depth + 1))
cmdlines = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            cmdlines.append(open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"))
        except OSError:
            pass
seen_mock = [c for c in cmdlines if "mockllm" in c or "--service" in c]
json.dump({"found": found, "walked": walked, "mock_processes": seen_mock}, open("outputs/hunt.json", "w"))
print("DONE", walked)
'''

SUM = ("import csv\ntotal = sum(int(r['n']) for r in csv.DictReader(open('data/numbers.csv')))\n"
       "open('outputs/result.txt', 'w').write(str(total))")

SUITE = '''
import json
import pytest


@pytest.mark.points(1)
def test_service_log(service_log):
    """every call is in the service log with its key and status"""
    got = [(r["method"], r["path"], r["idempotency_key"], r["status"]) for r in service_log]
    assert got == [("POST", "/refunds", "k1", 201), ("POST", "/refunds", "k1", 200),
                   ("POST", "/refunds", None, 400)], got
    assert json.loads(service_log[0]["request_body"]) == {"order": 7, "amount": 12}


@pytest.mark.points(1)
def test_service_state(service_state):
    """the final ledger holds one refund"""
    assert service_state == {"refunds": [{"id": 1, "order": 7, "amount": 12}]}, service_state


@pytest.mark.points(1)
def test_candidate_saw_nothing(outputs):
    """the workload found no file or process of the service"""
    hunt = json.loads((outputs / "hunt.json").read_text())
    assert hunt["walked"] > 1000 and not hunt["found"] and not hunt["mock_processes"], hunt
'''


@pytest.fixture
def service_task(mini_task: Path) -> Path:
    """The mini task with the test refund service (no oracle: the service is mounted on its own)."""
    shutil.copyfile(SERVICE, mini_task / "service.py")
    spec = yaml.safe_load((mini_task / "task.yaml").read_text())
    spec["mock_llm"]["service"] = "service.py"
    spec["mock_llm"].pop("oracle", None)
    (mini_task / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (mini_task / "grader" / "test_service.py").write_text(SUITE)
    return mini_task


@pytest.fixture
def grade(db, service_task, minitask, tmp_path, data_dir):
    from worksample.grading.runner import GradingInput, grade_workspace

    def run(cells: list[str]):
        n = len(list(tmp_path.glob("sub*")))
        workspace = minitask.submission(tmp_path / f"sub{n}", cells)
        (tmp_path / f"work{n}").mkdir()
        return grade_workspace(GradingInput(task_dir=service_task, workspace=workspace, work_dir=tmp_path / f"work{n}",
                                            labels={"worksample.test": "1"}, cell_timeout=60))

    yield run
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=worksample.data_dir={data_dir}"],
                          capture_output=True, text=True).stdout.split()
    if left:
        subprocess.run(["docker", "rm", "-f", *left], capture_output=True)
    assert not left, f"pods left behind: {left}"


@pytest.mark.timeout(300)
def test_the_workload_uses_the_service_but_never_sees_it_and_a_crash_is_ours(grade, service_task):
    from worksample.grading.runner import MockLost

    outcome = grade([CALLS, HUNT, SUM])
    assert outcome.run.status.value == "completed", outcome.run.errors
    answers = json.loads((outcome.run_dir / "outputs" / "answers.json").read_text())
    assert answers[0] == [201, {"id": 1, "order": 7, "amount": 12}]  # fresh state: the run's first refund
    assert answers[1][0] == 200 and answers[2][0] == 400
    checks = {c["id"]: (c["status"], c.get("message")) for c in outcome.result["checks"]}
    for name in ("service_log", "service_state", "candidate_saw_nothing", "sum_correct"):
        assert checks[name][0] == "pass", checks
    assert (outcome.run_dir / "mock" / "service.jsonl").is_file()

    # The crash: the pipeline's retryable infrastructure fault, not a crashed run with a score.
    crash = "import urllib.request\ntry:\n    urllib.request.urlopen('http://127.0.0.1:8081/crash', timeout=10)\nexcept Exception as e:\n    print(e)"
    with pytest.raises(MockLost, match="exited with status 4"):
        grade([crash, "import time\ntime.sleep(3)", "print('DONE')"])
