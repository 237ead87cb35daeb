"""Task services in the catalog (issue 16): `mock_llm.service` is a hidden file that must load,
and the pod layout hands it to the mock container alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from worksample.catalog import new_task, validate_task

pytestmark = pytest.mark.timeout(60)

GOOD = '''
import json
LEDGER = []


def state():
    return {"calls": len(LEDGER)}


async def app(scope, receive, send):
    LEDGER.append(scope["path"])
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps({"ok": True}).encode()})
'''


@pytest.fixture
def task(tmp_path: Path) -> Path:
    return new_task(tmp_path / "tasks", "svc-task")


def declare(folder: Path, rel: str = "service.py") -> None:
    data = yaml.safe_load((folder / "task.yaml").read_text())
    data["mock_llm"]["service"] = rel
    (folder / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_declared_service_that_loads_validates(task: Path) -> None:
    (task / "service.py").write_text(GOOD)
    declare(task)
    assert validate_task(task) == []


@pytest.mark.parametrize("source, reason", [
    ("import no_such_module_for_the_service\n", "ModuleNotFoundError"),
    ("x = 1\n", "defines neither `app` (ASGI) nor `make_app()`"),
    ("def make_app():\n    raise RuntimeError('boom at start')\n", "RuntimeError: boom at start"),
])
def test_a_service_that_does_not_load_is_named_with_its_reason(task: Path, source: str, reason: str) -> None:
    (task / "service.py").write_text(source)
    declare(task)
    problems = [str(p) for p in validate_task(task)]
    assert len(problems) == 1 and problems[0].startswith(f"{(task / 'service.py').resolve()}: (load): ")
    assert reason in problems[0]


def test_a_missing_service_file_names_the_field(task: Path) -> None:
    declare(task, "nope.py")
    problems = [str(p) for p in validate_task(task)]
    assert problems == [f"{task / 'task.yaml'}: mock_llm.service: 'nope.py' does not exist"]


def test_an_undeclared_service_py_is_a_problem(task: Path) -> None:
    (task / "service.py").write_text(GOOD)
    problems = [str(p) for p in validate_task(task)]
    assert len(problems) == 1 and "mock_llm.service" in problems[0] and "not named" in problems[0]


def test_a_service_the_candidate_would_see_is_refused(task: Path) -> None:
    (task / "starter" / "service.py").write_text(GOOD)
    declare(task, "starter/service.py")
    problems = [str(p) for p in validate_task(task)]
    assert any("workspace.starter" in p and "hidden mock_llm.service" in p for p in problems), problems


def test_the_mock_alone_gets_the_service(tmp_path: Path) -> None:
    """The layout mounts the service's folder into the mock and names it on the mock's command line."""
    from worksample.sandbox import layout
    from worksample.sandbox.spec import MockSpec, PodSpec

    task_dir = tmp_path / "t"
    task_dir.mkdir()
    (task_dir / "oracle.py").write_text("")
    (task_dir / "service.py").write_text(GOOD)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "svc.py").write_text(GOOD)
    cases = [(MockSpec(oracle=task_dir / "oracle.py", service=task_dir / "service.py"), "/mock/task/service.py",
              {"/mock/task"}),
             (MockSpec(service=other / "svc.py"), "/mock/service/svc.py", {"/mock/service"}),
             (MockSpec(oracle=task_dir / "oracle.py", service=other / "svc.py"), "/mock/service/svc.py",
              {"/mock/task", "/mock/service"})]
    for i, (mock, expected, task_mounts) in enumerate(cases):
        pod_dir = tmp_path / f"pod{i}"
        pod_dir.mkdir()
        mounts, args, _ = layout.mock_mounts(pod_dir, PodSpec(command=["true"], mock=mock))
        assert args[args.index("--service") + 1] == expected
        assert {m.target for m in mounts} - {"/mock/plan", "/mock/log"} == task_mounts
        assert all(m.read_only for m in mounts if m.target != "/mock/log")
    (tmp_path / "plain").mkdir()
    _, args, _ = layout.mock_mounts(tmp_path / "plain", PodSpec(command=["true"]))
    assert "--service" not in args


def test_an_attempt_pod_gets_the_service_in_its_mock_and_the_workload_only_the_public_data(data_dir: Path) -> None:
    """Attempts follow the grading path: the same MockSpec.service, the same mock-only mount."""
    from worksample.catalog import load_task
    from worksample.sandbox import layout
    from worksample.workspace import pods

    folder = Path(__file__).resolve().parents[3] / "tasks" / "refund-agent"
    spec = pods._pod_spec("a-service-test", load_task(folder), 60.0, data_dir / "ws", {})
    assert spec.mock.service == folder / "service.py"
    assert spec.data == folder / "data" and spec.workspace == data_dir / "ws"  # all the workload mounts of the task
    pod_dir = data_dir / "pod"
    pod_dir.mkdir()
    mounts, args, _ = layout.mock_mounts(pod_dir, spec)
    assert args[args.index("--service") + 1] == "/mock/task/service.py"
    assert {m.target: m.source for m in mounts}["/mock/task"] == folder.resolve()
