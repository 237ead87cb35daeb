"""What the grading kernel sends the host-side runner is bounded and is the candidate's outcome (issue 11, items 7, 10).

The kernel runs the candidate's code and holds the message signing key, so it
can send anything: huge outputs, replayed signed messages, malformed ones. The
runner (here: this test process, as `grade_path` runs the job inline) must
neither grow with them nor turn them into an `error` report. A notebook the
runner cannot run (a cell whose source is a number) is the candidate's
outcome too: a report with a score.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worksample.sandbox import kernel as sandbox_kernel

pytestmark = [pytest.mark.docker, pytest.mark.slow]

MiB = 1024**2
READ = "import csv, os\nrows = list(csv.DictReader(open('data/numbers.csv')))\ntotal = sum(int(r['n']) for r in rows)"
GOOD = "os.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write(str(total))\nprint('DONE')"


def peak_rss() -> int:
    """This process's high-water resident memory, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def graded(report: dict) -> None:
    """The report is a scored one, not the error report of a grading that broke."""
    assert "error" not in report, report.get("error")
    assert report["max_score"] == 20 and report["checks"], report


@pytest.mark.timeout(400)
def test_huge_kernel_messages_are_dropped_reported_and_leave_the_runner_small(grade):
    before = peak_rss()
    report = grade([READ, "from IPython.display import display\n"
                          "for i in range(2):\n    display({'text/plain': str(i) * (40 * 1024**2)}, raw=True)",
                    GOOD])
    grown = peak_rss() - before
    graded(report)
    assert grown < 64 * MiB, f"the runner grew by {grown / MiB:.0f} MiB taking 2 × 40 MiB messages"
    assert report["run"]["status"] == "completed", report["run"]
    assert any("size cap" in e for e in report["run"]["errors"]), report["run"]["errors"]
    assert report["score"] == 20  # the work after the flood still ran and counts


@pytest.mark.timeout(400)
def test_replayed_signed_messages_are_ignored_not_an_error(grade):
    before = peak_rss()
    report = grade([READ, """
k = get_ipython().kernel
parent = k.get_parent('shell')
big = k.session.serialize(k.session.msg('stream', {'name': 'stdout', 'text': 'R' * (6 * 1024**2)}, parent=parent))
small = k.session.serialize(k.session.msg('stream', {'name': 'stdout', 'text': 'replayed\\n'}, parent=parent))
for _ in range(16):
    k.iopub_socket.send_multipart(big)
    k.iopub_socket.send_multipart(small)
print('sent')
""", GOOD])
    grown = peak_rss() - before
    graded(report)
    assert report["run"]["status"] == "completed", report["run"]
    assert report["score"] == 20
    assert any("replayed" in e for e in report["run"]["errors"]), report["run"]["errors"]
    # (getattr: the same test runs against the code before the caps existed, to see it fail)
    bound = getattr(sandbox_kernel, "KERNEL_QUEUE", 4) * getattr(sandbox_kernel, "KERNEL_MESSAGE_MAX", 8 * MiB) + 64 * MiB  # a full queue, a message being decoded, the job
    assert grown < bound, f"the runner grew by {grown / MiB:.0f} MiB taking 16 replays of a 6 MiB message"
    nb = json.loads((Path(report["run_dir"]) / "notebook.ipynb").read_text())
    text = json.dumps(nb["cells"][1]["outputs"])
    assert text.count("replayed") <= 1  # a replay is not recorded as output again


@pytest.mark.timeout(400)
@pytest.mark.parametrize("source", [42, None, {"code": "print(1)"}, ["print(", 1, ")"]],
                         ids=["int", "null", "object", "list-with-int"])
def test_a_cell_source_that_is_not_text_gets_a_scored_report(grade, tmp_path, source):
    report = grade([READ, GOOD], edit=lambda nb: nb["cells"][1].__setitem__("source", source))
    graded(report)
    assert report["score"] == 0 and report["run"]["cells"] == 0
    # nbformat itself refuses some shapes (a list with a number in it); ours name the cell
    assert any("solution.ipynb" in e and ("cell 2" in e or "not a readable" in e) for e in report["run"]["errors"]), \
        report["run"]["errors"]
