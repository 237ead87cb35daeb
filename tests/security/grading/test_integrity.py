"""Submissions that attack the grading get the score they deserve, never more, and grading goes on.

Each test grades a hostile notebook against a small real task (hold-out sum in
`outputs/result.txt`, 20 points) in a real grading pod and asserts the
defended outcome in the report.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

READ = "import csv, os\nrows = list(csv.DictReader(open('data/numbers.csv')))\ntotal = sum(int(r['n']) for r in rows)"
WRONG = "os.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write('0')"
GOOD = "os.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write(str(total))\nprint('DONE')"


def _checks(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


def _run_dir(report: dict) -> Path:
    return Path(report["run_dir"])


def test_fake_report_files_do_not_raise_the_score(grade):
    fake = json.dumps({"score": 999, "max_score": 20, "passed": True,
                       "checks": [{"id": "sum_correct", "status": "pass", "points": 10, "max_points": 10}]})
    report = grade([READ, WRONG, f"""
fake = {fake!r}
for path in ['outputs/result.json', 'outputs/report.json', '/tmp/result.json', 'result.json', 'outputs/run.json',
             '/workspace/run.json', '/ipc/result.json', '/grading/result/result.json', '/grading/run/.ready']:
    try:
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        open(path, 'w').write(fake)
    except OSError as exc:
        print('denied', path, type(exc).__name__)
print('DONE')
"""])
    checks = _checks(report)
    assert checks["sum_correct"]["status"] == "fail"
    assert report["score"] == 10 and report["max_score"] == 20  # completed + DONE, not the sum
    assert not report["passed"]


def test_monkeypatched_pytest_builtins_and_planted_conftest_change_nothing(grade):
    report = grade([READ, WRONG, """
import builtins, sys, types
builtins.AssertionError = type('AssertionError', (Exception,), {})
fake = types.ModuleType('pytest'); fake.main = lambda *a, **k: 0; sys.modules['pytest'] = fake
open('outputs/conftest.py', 'w').write(
    "import pytest\\n@pytest.hookimpl(tryfirst=True)\\ndef pytest_runtest_makereport(item, call):\\n    call.excinfo = None\\n")
open('outputs/pytest.ini', 'w').write('[pytest]\\naddopts = -p no:worksample_grader.plugin\\n')
open('outputs/sitecustomize.py', 'w').write('import os; os._exit(0)')
print('DONE')
"""])
    checks = _checks(report)
    assert checks["sum_correct"]["status"] == "fail" and checks["run_completed"]["status"] == "pass"
    assert report["score"] == 10


@pytest.mark.parametrize("exit_call", ["os._exit(0)", "sys.exit(0)"])
def test_exiting_mid_run_is_recorded_not_rewarded(grade, exit_call):
    report = grade([READ, f"import sys\nprint('before')\n{exit_call}", GOOD])
    assert report["run"]["status"] == "crashed"
    assert report["run"]["cells"] == 2
    checks = _checks(report)
    assert checks["sum_correct"]["status"] == "fail" and checks["run_completed"]["status"] == "fail"
    assert report["score"] == 0


def test_killing_its_own_kernel_is_recorded(grade):
    report = grade([READ, "import signal\nos.kill(os.getpid(), signal.SIGKILL)", GOOD])
    assert report["run"]["status"] == "crashed"
    assert "kernel died" in report["run"]["errors"][0]
    assert report["score"] == 0


def test_infinite_loop_times_out_within_the_run_limit(grade):
    started = time.monotonic()
    report = grade([READ, GOOD, "while True:\n    pass"])
    assert report["run"]["status"] == "timeout"
    assert time.monotonic() - started < 60  # 20 s run limit + pod and grader
    checks = _checks(report)
    assert checks["sum_correct"]["status"] == "pass"  # work done before the loop still counts
    assert checks["run_completed"]["status"] == "fail"


def test_stdout_flood_is_capped(grade):
    report = grade([READ, "import sys\nfor _ in range(300):\n    sys.stdout.write('x' * 1_000_000)\n", GOOD])
    notebook = _run_dir(report) / "notebook.ipynb"
    assert notebook.stat().st_size < 6 * 1024**2
    # The kernel may die of its own flood (its memory limit) before the cap: its sandbox, not the platform.
    assert report["run"]["output_truncated"] is True or report["run"]["status"] == "crashed", report["run"]
    assert report["run"]["status"] in ("completed", "timeout", "crashed"), report["run"]
    assert report["max_score"] == 20  # the grader still ran


def test_fork_bomb_stays_inside_its_pod(grade):
    started = time.monotonic()
    report = grade([READ, """
import subprocess, sys
bomb = "import os\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        pass\\n"
subprocess.Popen([sys.executable, '-c', bomb])
import time; time.sleep(3)
""", GOOD])
    assert report["run"]["status"] in ("completed", "crashed", "timeout")
    assert time.monotonic() - started < 90
    assert report["max_score"] == 20  # the grader still ran and judged


def test_overriding_showtraceback_does_not_hide_a_crash(grade):
    report = grade([READ, "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
                          "ip._showtraceback = lambda *a, **k: None", "raise ValueError('hidden')", GOOD])
    assert report["run"]["status"] == "crashed"
    assert "ValueError" in report["run"]["errors"][0]
    assert _checks(report)["run_completed"]["status"] == "fail"


def test_grader_files_and_labels_are_out_of_reach(grade, minitask):
    report = grade([READ, GOOD, """
found = []
for root in ['/', '/grading', '/mock', '/opt', '/workspace', '/ipc', '/tmp']:
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath.startswith(('/proc', '/sys', '/dev')):
            dirnames[:] = []
            continue
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                if os.path.getsize(path) < 100000 and b'hidden-label' in open(path, 'rb').read():
                    found.append(path)
            except OSError:
                pass
found.append(str(sorted(os.environ)))
open('outputs/found.txt', 'w').write('\\n'.join(found))
print('looked', len(found))
"""])
    found = (_run_dir(report) / "outputs" / "found.txt").read_text()
    assert minitask.SECRET not in found
    assert "/grading" not in found and "expected.txt" not in found
    assert report["score"] == 20


def test_symlinks_in_outputs_are_not_followed(grade):
    report = grade([READ, """
os.makedirs('outputs', exist_ok=True)
os.symlink('/etc/passwd', 'outputs/result.txt')
os.symlink('/', 'outputs/root')
os.symlink('/proc/self/environ', 'outputs/env.txt')
print('DONE')
"""])
    outputs = _run_dir(report) / "outputs"
    assert not (outputs / "result.txt").exists() and not (outputs / "root").exists()
    assert not any(p.is_symlink() for p in outputs.rglob("*"))
    assert any("not copied out" in e for e in report["run"]["errors"])
    assert _checks(report)["sum_correct"]["status"] == "fail"


def test_a_good_submission_still_grades_after_the_attacks(grade):
    report = grade([READ, GOOD])
    assert report["score"] == report["max_score"] == 20 and report["passed"]
    assert report["run"]["status"] == "completed"


def test_patching_time_sleep_cannot_fake_backoff(tmp_path, data_dir, minitask):
    """The mock's own clock judges waits: a notebook that no-ops time.sleep shows immediate retries."""
    from worksample.grading.local import grade_path

    task = minitask.make_task(tmp_path / "llm", timeout="30s", rpm=2)
    cells = [READ, GOOD, """
import time, openai
time.sleep = lambda seconds: None  # 'backoff' that takes no time
client = openai.OpenAI(max_retries=3)
for i in range(8):  # ≥ 20 paid calls: the resilience checks judge nothing on less
    try:
        client.chat.completions.create(model='atlas-mini', messages=[{'role': 'user', 'content': f'q{i}'}])
    except openai.RateLimitError:
        pass
"""]
    report = grade_path(minitask.submission(tmp_path / "sub", cells), str(task), labels={"worksample.test": "1"})
    checks = _checks(report)
    assert report["llm"]["rate_limited"] >= 1
    assert checks["retry_after_honoured"]["status"] == "fail"
    assert "before their retry-after" in checks["retry_after_honoured"]["message"]


def test_a_planted_kernel_launcher_is_not_run(grade, minitask, tmp_path):
    """A file named like the kernel's launcher in the submission must not replace the kernel."""
    from worksample.grading.local import grade_path

    folder = minitask.submission(tmp_path / "planted", [READ, GOOD, "import helper\nprint(helper.VALUE)"])
    (folder / "ipykernel_launcher.py").write_text("import os\nos._exit(0)\n")
    (folder / "helper.py").write_text("VALUE = 'local-import-works'\n")
    task = next((tmp_path / "tasks").iterdir())
    report = grade_path(folder, str(task), labels={"worksample.test": "1"})
    assert report["run"]["status"] == "completed", report["run"]
    assert report["score"] == 20
    executed = (_run_dir(report) / "notebook.ipynb").read_text()
    assert "local-import-works" in executed  # the candidate's own modules still import
