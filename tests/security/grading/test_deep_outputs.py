"""A 1,500-deep folder tree under outputs/ is the candidate's business: grading still ends with a score."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

READ = "import csv, os\nrows = list(csv.DictReader(open('data/numbers.csv')))\ntotal = sum(int(r['n']) for r in rows)"
GOOD = "os.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write(str(total))\nprint('DONE')"
DEEP = ("here = os.getcwd()\nos.chdir('outputs')\n"
        "for _ in range(1500):\n    os.mkdir('d')\n    os.chdir('d')\n"
        "open('bottom.txt', 'w').write('x')\nos.chdir(here)\nprint('deep')")


@pytest.mark.timeout(300)
def test_a_1500_deep_outputs_tree_is_graded_not_an_error(grade):
    report = grade([READ, GOOD, DEEP])
    assert report["run"]["status"] == "completed", report.get("error")
    checks = {c["id"]: c["status"] for c in report["checks"]}
    assert checks["sum_correct"] == "pass"  # what is within the bounds was copied out and graded
    assert report["score"] == report["max_score"] == 20
    assert any("not copied out" in e for e in report["run"].get("errors", [])), report["run"]
