"""The grading pytest plugin: `pytest -p worksample_grader.plugin --ws-run DIR --ws-result FILE SUITE…`.

It registers `@pytest.mark.points(n, group=…, title=…)` and `@pytest.mark.gate`
(a check that must pass for the submission to pass), provides the fixtures
of `worksample_grader.fixtures`, records each check's outcome and writes the
result file (see `report`) at the end of the session. The result file must be
given outside the run folder: a result is never written where the candidate's
code could have put one first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worksample_grader import report as rp
from worksample_grader.fixtures import (  # noqa: F401  (fixtures are found by name)
    CHECK_KEY,
    check,
    grading_profile,
    hidden_data,
    llm_bodies,
    llm_calls,
    llm_log,
    llm_truncated_bodies,
    notebook,
    outputs,
    rerun,
    rerun_folder,
    rerun_outputs,
    run,
    run_folder,
    service_log,
    service_state,
    task,
)

CHECKS_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("worksample", "worksample grading")
    group.addoption("--ws-run", dest="ws_run", help="the run folder to grade")
    group.addoption("--ws-result", dest="ws_result", help="where to write the result JSON")
    group.addoption("--ws-hidden-data", dest="ws_hidden_data", help="the task's hidden data folder")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n, group=None, title=None): points this check is worth")
    config.addinivalue_line("markers", "gate: a failed gate makes the submission not passed, whatever the points")
    config.stash[CHECKS_KEY] = {}
    run_dir, result = config.getoption("ws_run"), config.getoption("ws_result")
    if run_dir and result and Path(result).resolve().is_relative_to(Path(run_dir).resolve()):
        raise pytest.UsageError("--ws-result must be outside the run folder")


def _check_id(item: pytest.Item, taken: dict) -> str:
    name = item.name.split("[", 1)[0]
    base = name.removeprefix("test_") + item.name[len(name):]
    if base in taken:
        base = f"{base}@{item.path.stem}"
    return base


def _group_of(item: pytest.Item) -> str:
    # A check in an included suite (graders/suites/<name>/) belongs to that suite by default.
    parts = item.path.parts
    if "suites" in parts[:-1]:
        return parts[parts.index("suites") + 1]
    return "task"


def _new_check(item: pytest.Item, taken: dict) -> rp.Check:
    marker = item.get_closest_marker("points")
    doc = (getattr(item.obj, "__doc__", None) or "").strip().splitlines()
    check_id = _check_id(item, taken)
    if marker is None or not marker.args:
        return rp.Check(check_id, doc[0] if doc else check_id, _group_of(item), 0.0, rp.ERROR,
                        message="authoring error: no @pytest.mark.points(n)", nodeid=item.nodeid)
    title = marker.kwargs.get("title") or (doc[0] if doc else check_id)
    group = marker.kwargs.get("group") or _group_of(item)
    gate = item.get_closest_marker("gate") is not None
    return rp.Check(check_id, title, group, float(marker.args[0]), rp.ERROR, message="not run", gate=gate,
                    nodeid=item.nodeid)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = config.stash[CHECKS_KEY]
    for item in items:
        new = _new_check(item, checks)
        checks[new.id] = new
        item.stash[CHECKS_KEY] = new


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        checks = _config_checks(report)
        name = f"collect:{report.nodeid or 'session'}"
        checks[name] = rp.Check(name, "suite could not be collected", "grader", 0.0, rp.ERROR,
                                message=rp.clip(str(report.longrepr)))


_CONFIG: list[pytest.Config] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG[:] = [session.config]


def _config_checks(_report) -> dict:
    return _CONFIG[0].stash[CHECKS_KEY] if _CONFIG else {}


def _failure_message(call: pytest.CallInfo) -> str:
    if call.excinfo is None:
        return ""
    text = call.excinfo.exconly()
    text = text.removeprefix("AssertionError: ").removeprefix("Failed: ")
    return rp.clip(text.split("\nassert ")[0])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    check_ = item.stash.get(CHECKS_KEY, None)
    if check_ is None or check_.message.startswith("authoring error"):
        return report
    _record(check_, item, call, report)
    return report


def _record(check_: rp.Check, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> None:
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        handle = item.stash.get(CHECK_KEY, None)
        if report.passed and not xfail:
            check_.status, check_.message = rp.PASS, handle.message if handle else ""
            check_.fraction = handle.fraction if handle else 1.0
        elif report.passed and xfail:
            check_.status, check_.message = rp.FAIL, "xpassed: a check expected to fail earns nothing"
        elif report.skipped:
            check_.status, check_.message = rp.FAIL, "xfailed" if xfail else f"skipped: {_skip_reason(report)}"
        else:
            check_.status, check_.message = rp.FAIL, _failure_message(call) or "failed"
    elif report.when == "setup" and report.skipped:
        check_.status, check_.message = rp.FAIL, f"skipped: {_skip_reason(report)}"
    elif report.failed:  # setup or teardown raised: the check could not be judged
        check_.status, check_.message = rp.ERROR, f"{report.when} error: {_failure_message(call)}"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return rp.clip(str(longrepr[2]).removeprefix("Skipped: "))
    return rp.clip(str(longrepr))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = session.config.getoption("ws_result")
    if not target:
        return
    checks = list(session.config.stash[CHECKS_KEY].values())
    result = rp.summarize(checks)
    result["pytest_exit"] = int(exitstatus)
    rp.write_result(Path(target), result)
