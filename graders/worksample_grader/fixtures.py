"""Fixtures every hidden suite can ask for: `run_folder`, `run`, `task`, `notebook`,
`outputs`, `llm_log`, `llm_calls`, `llm_bodies`, `grading_profile`, `hidden_data`, `check`,
for tasks with a service (DESIGN §14) `service_log` and `service_state`, and for tasks
that ask for a second run (`grading.rerun`) `rerun_folder`, `rerun` and `rerun_outputs`.

All of them read the run folder (see `runfolder`) as data. A missing artifact
is not an error of the suite: `notebook` and `outputs` still resolve (to an
empty notebook / an empty folder path) so the check that needs the artifact
fails with a message instead of erroring.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worksample_grader import runfolder as rf


class CheckHandle:
    """What a test may tell the report about itself: a partial score and a message."""

    def __init__(self) -> None:
        self.fraction = 1.0
        self.message = ""

    def scale(self, fraction: float, message: str = "") -> None:
        """Earn only `fraction` (0..1) of the check's points if it passes; optional message."""
        self.fraction = min(1.0, max(0.0, float(fraction)))
        if message:
            self.message = message

    def note(self, message: str) -> None:
        """Attach a message to a passing check (failures carry their assertion message)."""
        self.message = message


def _option_path(config: pytest.Config, name: str) -> Path | None:
    value = config.getoption(name)
    return Path(value) if value else None


@pytest.fixture(scope="session")
def run_folder(pytestconfig: pytest.Config) -> Path:
    """The run folder handed over by the runner (`--ws-run`)."""
    path = _option_path(pytestconfig, "ws_run")
    if path is None:
        pytest.fail("no run folder: pass --ws-run DIR", pytrace=False)
    return path


@pytest.fixture(scope="session")
def run(run_folder: Path) -> dict:
    """The runner's record of the notebook run: status, duration_s, cells, errors."""
    path = run_folder / rf.RUN_FILE
    return rf.read_json(path) if path.exists() else {"status": "error", "errors": ["no run record"]}


@pytest.fixture(scope="session")
def task(run_folder: Path) -> dict:
    """The task spec (task.yaml as a dict) the platform graded against."""
    path = run_folder / rf.TASK_FILE
    return rf.read_json(path) if path.exists() else {}


@pytest.fixture(scope="session")
def notebook(run_folder: Path):
    """The executed notebook (nbformat v4 node) as recorded by the host-side runner."""
    import nbformat

    path = run_folder / rf.NOTEBOOK_FILE
    if not path.exists():
        return nbformat.v4.new_notebook()
    return nbformat.reads(rf.read_capped(path).decode("utf-8", "replace"), as_version=4)


@pytest.fixture(scope="session")
def outputs(run_folder: Path) -> Path:
    """The copied-out `outputs/` folder (may not exist if the run produced nothing)."""
    return run_folder / rf.OUTPUTS_DIR


@pytest.fixture(scope="session")
def llm_log(run_folder: Path):
    """The mock's call log, loaded with `worksample_grader.llmlog`."""
    from worksample_grader import llmlog

    path = run_folder / rf.MOCK_DIR / rf.CALLS_FILE
    if not path.exists():  # the mock never got a call: an empty log, which is no evidence of anything
        return llmlog.CallLog([])
    # Bodies give calls logged without a logical_hash their logical request (retries behind a nonce).
    return llmlog.load(path, bodies=llmlog.load_bodies(run_folder / rf.MOCK_DIR / rf.BODIES_FILE))


@pytest.fixture(scope="session")
def llm_calls(run_folder: Path) -> list[dict]:
    """The raw call-log records (one dict per request, DESIGN §6 fields)."""
    return rf.read_jsonl(run_folder / rf.MOCK_DIR / rf.CALLS_FILE)


@pytest.fixture(scope="session")
def grading_profile(run_folder: Path) -> dict:
    """The mock's grading profile the run was made under (models, rate limits, budget)."""
    path = run_folder / rf.PROFILE_FILE
    return rf.read_json(path) if path.exists() else {}


@pytest.fixture(scope="session")
def llm_bodies(run_folder: Path) -> dict[str, object]:
    """Request bodies the mock kept, by request_id (a body the mock cut at its cap is a string)."""
    records = rf.read_jsonl(run_folder / rf.MOCK_DIR / rf.BODIES_FILE)
    return {str(r.get("request_id")): r.get("body") for r in records}


@pytest.fixture(scope="session")
def llm_truncated_bodies(run_folder: Path) -> set[str]:
    """request_ids whose body the mock kept only in part (over its body cap): their full text is unknown."""
    records = rf.read_jsonl(run_folder / rf.MOCK_DIR / rf.BODIES_FILE)
    return {str(r.get("request_id")) for r in records if r.get("truncated")}


@pytest.fixture(scope="session")
def service_log(run_folder: Path) -> list[dict]:
    """The task service's call log, one dict per call, in arrival order (empty if it got none).

    Fields: ts, request_id, method, path, query, status, fault (null, a service fault kind,
    or `service_crash`), latency_ms, idempotency_key, request_body, response_body (text, cut
    at 16 KiB), truncated. Written by the mock container before each response completed; a
    record with request_id `log_full` marks a full log (later calls got 507, unlogged).
    """
    return rf.read_jsonl(run_folder / rf.MOCK_DIR / rf.SERVICE_LOG_FILE)


@pytest.fixture(scope="session")
def service_state(run_folder: Path) -> dict:
    """The task service's final state (what its `state()` returned after the run's last call); {} if none."""
    path = run_folder / rf.MOCK_DIR / rf.SERVICE_STATE_FILE
    if not path.exists():
        return {}
    state = rf.read_json(path)
    return state if isinstance(state, dict) else {"state": state}


# The second run (task.yaml `grading.rerun: true`): the runner executes the entrypoint again in a fresh
# pod (fresh kernel, a fresh copy of the submission, the same hidden data and mock seed) and lays that
# run out in <run>/rerun/ like the first. Checks compare the two, e.g. for reproducible results.

@pytest.fixture(scope="session")
def rerun_folder(run_folder: Path) -> Path:
    """The second run's folder (`<run>/rerun`, same layout as the run folder); fails the check, as an
    authoring error, when the task does not ask for a second run (`grading.rerun: true` in task.yaml)."""
    path = run_folder / rf.RERUN_DIR
    if path.is_symlink() or not (path / rf.RUN_FILE).is_file():
        pytest.fail("authoring error: no second run in the run folder: a check that compares runs needs "
                    "`grading.rerun: true` in task.yaml", pytrace=False)
    return path


@pytest.fixture(scope="session")
def rerun(rerun_folder: Path) -> dict:
    """The runner's record of the second run: status (`skipped` when the first run timed out or had no
    notebook to run, so a second one was not started), duration_s, cells, errors."""
    record = rf.read_json(rerun_folder / rf.RUN_FILE)
    return record if isinstance(record, dict) else {"status": "error", "errors": ["malformed run record"]}


@pytest.fixture(scope="session")
def rerun_outputs(rerun_folder: Path) -> Path:
    """The second run's copied-out `outputs/` folder (may not exist if it produced nothing)."""
    return rerun_folder / rf.OUTPUTS_DIR


@pytest.fixture(scope="session")
def hidden_data(pytestconfig: pytest.Config) -> Path:
    """The task's hidden data folder (`grader/data/`), never visible to the candidate."""
    path = _option_path(pytestconfig, "ws_hidden_data")
    if path is None or not path.is_dir():
        pytest.fail(f"hidden data folder missing: {path}", pytrace=False)
    return path


@pytest.fixture
def check(request: pytest.FixtureRequest) -> CheckHandle:
    """A handle to scale this check's points or attach a message."""
    handle = CheckHandle()
    request.node.stash[CHECK_KEY] = handle
    return handle


CHECK_KEY = pytest.StashKey[CheckHandle]()
