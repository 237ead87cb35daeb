"""The hidden suite of a task: which test folders make it up, and the pytest command that runs it.

The same command runs in the grader container and, for unit tests of suites,
on the host. It pins pytest's configuration so nothing in a graded run can add
to it: an empty ini file, conftest lookup cut at the suites' root, no cache,
no bytecode written, our plugin loaded explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worksample.config import REPO_ROOT
from worksample.errors import WorksampleError

SUITES_ROOT = REPO_ROOT / "graders" / "suites"
GRADERS_ROOT = REPO_ROOT / "graders"


class SuiteError(WorksampleError):
    """A task names a suite that does not exist, or has no grader folder."""


@dataclass(frozen=True)
class SuitePaths:
    """Where a task's hidden suite comes from on the host."""

    task_suite: Path  # the task's grader/ folder (tests + hidden data)
    included: tuple[Path, ...]  # graders/suites/<name> for each `grading.include`

    @property
    def hidden_data(self) -> Path:
        """The task's hidden data folder (grader/data/)."""
        return self.task_suite / "data"


def resolve_suites(task_dir: Path, suite: str = "grader/", include: list[str] | tuple[str, ...] = ()) -> SuitePaths:
    """The task's suite folder and its included suites; SuiteError names what is missing."""
    task_suite = (task_dir / suite).resolve()
    if not task_suite.is_dir():
        raise SuiteError(f"{task_dir / 'task.yaml'}: grading.suite: folder {suite!r} does not exist")
    included = []
    for name in include:
        path = SUITES_ROOT / name
        if not name.isidentifier() or not path.is_dir():
            known = ", ".join(sorted(p.name for p in SUITES_ROOT.iterdir() if p.is_dir())) or "none"
            raise SuiteError(f"{task_dir / 'task.yaml'}: grading.include: unknown suite {name!r} (known: {known})")
        included.append(path)
    return SuitePaths(task_suite, tuple(included))


def pytest_command(python: str, run_dir: str, result: str, hidden_data: str, suites: list[str], ini: str) -> list[str]:
    """The argv that runs `suites` over `run_dir` and writes the result JSON to `result`.

    `ini` is an empty file of ours: with `-c` pytest reads no configuration from
    anywhere else, and `--rootdir`/`--confcutdir` keep conftest discovery inside
    the suites.
    """
    root = str(Path(ini).parent)
    return [
        python, "-B", "-m", "pytest", "-q", "-c", ini, "--rootdir", root, "--confcutdir", root,
        "-p", "no:cacheprovider", "-p", "worksample_grader.plugin", "--import-mode=importlib",
        "--ws-run", run_dir, "--ws-result", result, "--ws-hidden-data", hidden_data,
        "-W", "ignore::DeprecationWarning", *suites,
    ]
