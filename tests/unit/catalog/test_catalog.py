"""The task format: the model, the validator's rules (one broken fixture each), the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from worksample.catalog import list_tasks, load_task, new_task, task_schema, validate_task
from worksample.catalog.loader import TaskInvalid
from worksample.catalog.spec import parse_duration, parse_size

REPO = Path(__file__).resolve().parents[3]
TASKS = REPO / "tasks"


def edit(folder: Path, **changes) -> None:
    """Set top-level (or dotted) keys of task.yaml; a value of None deletes the key."""
    data = yaml.safe_load((folder / "task.yaml").read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    (folder / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def lines(folder: Path) -> list[str]:
    return [str(p) for p in validate_task(folder)]


def only(folder: Path) -> str:
    found = lines(folder)
    assert len(found) == 1, found
    return found[0]


def test_every_task_in_the_repo_validates():
    folders = sorted(p for p in TASKS.iterdir() if (p / "task.yaml").exists())
    assert folders, "no tasks in tasks/"
    for folder in folders:
        assert validate_task(folder) == [], folder


def test_load_task_parses_durations_sizes_and_remembers_its_folder():
    task = load_task(TASKS / "support-ticket-triage")
    assert task.time_limit == timedelta(hours=2) and task.time_limit_s == 7200
    assert task.grading.timeout == timedelta(minutes=15)
    assert task.resources.memory == 2 * 1024**3 and task.resources.disk == 512 * 1024**2
    assert task.folder == TASKS / "support-ticket-triage"
    assert task.model_dump(mode="json")["time_limit"] == "2h"
    assert "support-ticket-triage" in [t.slug for t in list_tasks(TASKS)]


@pytest.mark.parametrize("text,seconds", [("2h", 7200), ("90m", 5400), ("15m", 900), ("30s", 30), (45, 45)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["2 hours", "-5m", "0s", "", True])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_sizes():
    assert parse_size("2g") == 2 * 1024**3 and parse_size("512m") == 512 * 1024**2 and parse_size("64K") == 65536
    with pytest.raises(ValueError):
        parse_size("lots")


def test_scaffold_validates(task: Path):
    assert validate_task(task) == []
    assert (task / "starter" / "solution.ipynb").exists()


def test_unknown_key(task: Path):
    edit(task, colour="blue")
    assert only(task) == f"{task / 'task.yaml'}: colour: unknown key"


def test_missing_required_key(task: Path):
    edit(task, title=None)
    assert only(task) == f"{task / 'task.yaml'}: title: required key missing"


# One edit of task.yaml (dotted keys as `edit` takes them) and the end of the one problem it must cause.
ONE_EDIT_ONE_PROBLEM = [
    pytest.param({"workspace__entry": "x.ipynb"}, ": workspace.entry: unknown key", id="unknown_nested_key"),
    pytest.param({"time_limit": "150m"}, ": time_limit: 150m is over 2h: work samples are capped at two hours",
                 id="time_limit_over_two_hours"),
    pytest.param({"workspace__data": "../elsewhere"},
                 ": workspace.data: '../elsewhere' must not leave the task folder ('..')", id="path_with_dotdot"),
    pytest.param({"mock_llm__oracle": "/etc/passwd"},
                 ": mock_llm.oracle: '/etc/passwd' must be relative to the task folder", id="absolute_path"),
    pytest.param({"workspace__entrypoint": "main.ipynb"},
                 ": workspace.entrypoint: 'main.ipynb' is missing from starter/", id="entrypoint_missing_from_starter"),
    pytest.param({"rubric": [{"id": "a", "title": "A", "points": 5}, {"id": "a", "title": "B", "points": 5}]},
                 ": rubric.1.id: 'a' is not unique", id="rubric_ids_unique"),
    *(pytest.param({"rubric": [{"id": "a", "title": "A", "points": points}]},
                   ": rubric.0.points: Input should be greater than 0", id=f"rubric_points_{points}")
      for points in (0, -3)),
    pytest.param({"slug": "other-task"}, ": slug: 'other-task' does not match the folder name 'demo-task'",
                 id="slug_must_match_folder"),
]


@pytest.mark.parametrize("changes,problem", ONE_EDIT_ONE_PROBLEM)
def test_one_edit_causes_one_problem(task: Path, changes: dict, problem: str):
    edit(task, **changes)
    assert only(task).endswith(problem)


def test_missing_path(task: Path):
    shutil.rmtree(task / "grader")
    assert only(task).endswith(": grading.suite: 'grader/' does not exist")


def test_symlink_out_of_the_task(task: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(task / "data")
    os.symlink(outside, task / "data")
    assert only(task).endswith(": workspace.data: 'data/' resolves outside the task folder (symlink?)")


def test_symlink_out_inside_the_starter(task: Path):
    os.symlink("/etc/hostname", task / "starter" / "host")
    assert only(task).endswith(": workspace.starter: starter/host is a symlink out of the task folder")


def test_entrypoint_cannot_escape_the_starter(task: Path):
    edit(task, workspace__entrypoint="../oracle.py")
    assert "workspace.entrypoint: '../oracle.py' is missing from starter/" in only(task)


def test_invalid_profile_uses_the_mocks_validation(task: Path):
    profile = task / "profiles" / "grading.yaml"
    data = yaml.safe_load(profile.read_text())
    data["rate_limits"]["rpn"] = 5
    profile.write_text(yaml.safe_dump(data))
    assert only(task) == f"{profile}: rate_limits.rpn: unknown key"


def test_grader_inside_data_is_hidden_file_exposed(task: Path):
    (task / "data" / "grader").mkdir()
    (task / "data" / "grader" / "test_x.py").write_text("")
    assert only(task).endswith(": workspace.data: data/grader looks hidden (grader/) but the candidate would see it")


def test_labels_in_the_starter_are_exposed(task: Path):
    (task / "starter" / "labels.csv").write_text("id,category\n")
    assert only(task).endswith(": workspace.starter: starter/labels.csv looks hidden (labels, oracle or grading file) but the candidate would see it")


def test_oracle_in_the_data_is_exposed(task: Path):
    shutil.copy(task / "oracle.py", task / "data" / "oracle.py")
    assert "data/oracle.py looks hidden" in only(task)


def test_grading_profile_inside_the_starter_is_exposed(task: Path):
    (task / "starter" / "conf").mkdir()
    shutil.move(task / "profiles" / "grading.yaml", task / "starter" / "conf" / "grading.yaml")
    edit(task, mock_llm__grading_profile="starter/conf/grading.yaml")
    found = lines(task)
    assert any(f.endswith(": workspace.starter: the candidate would see hidden mock_llm.grading_profile (starter/conf/grading.yaml)") for f in found), found


def test_starter_as_the_whole_task_exposes_the_grader(task: Path):
    edit(task, workspace__starter=".", workspace__entrypoint="starter/solution.ipynb")
    found = lines(task)
    assert any("workspace.starter: the candidate would see hidden grading.suite (grader)" in f for f in found), found


def test_not_yaml(task: Path):
    (task / "task.yaml").write_text("slug: [unclosed\n")
    assert only(task).endswith("task.yaml: (document): invalid YAML at line 2")


def test_load_task_raises_with_the_problems(task: Path):
    edit(task, colour="blue", time_limit="3h")
    with pytest.raises(TaskInvalid) as info:
        load_task(task)
    assert "colour: unknown key" in str(info.value)


def test_schema_forbids_unknown_keys_and_lists_fields():
    schema = task_schema()
    assert schema["additionalProperties"] is False
    assert {"slug", "title", "summary", "track", "time_limit", "image", "workspace", "grading"} <= set(schema["required"])
    assert set(schema["properties"]) == {"slug", "title", "summary", "track", "time_limit", "image", "resources",
                                         "workspace", "mock_llm", "grading", "rubric"}


def test_new_refuses_bad_slug_and_existing_folder(task: Path):
    from worksample.errors import UsageError

    with pytest.raises(UsageError):
        new_task(task.parent, "Bad Slug")
    with pytest.raises(UsageError):
        new_task(task.parent, "demo-task")


def _cli(*args: str) -> subprocess.CompletedProcess:
    main = "import sys; from worksample.cli import main; sys.argv[0] = 'worksample'; main()"
    return subprocess.run([sys.executable, "-c", main, *args], capture_output=True, text=True, timeout=60)


def test_cli_validate_exit_codes_and_lines(task: Path):
    ok = _cli("task", "validate", str(TASKS / "support-ticket-triage"), str(task))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    edit(task, colour="blue")
    bad = _cli("task", "validate", str(task))
    assert bad.returncode == 1
    assert bad.stdout.strip() == f"{task / 'task.yaml'}: colour: unknown key"


def test_cli_new_list_schema(tmp_path: Path):
    made = _cli("task", "new", "fresh-task", "--root", str(tmp_path))
    assert made.returncode == 0 and "fill in" in made.stdout
    assert validate_task(tmp_path / "fresh-task") == []
    listed = _cli("task", "list", "--root", str(tmp_path))
    assert listed.stdout.startswith("fresh-task\tllm-engineering\t2h\t")
    (tmp_path / "fresh-task" / "task.yaml").write_text("nonsense: 1\n")
    assert "INVALID" in _cli("task", "list", "--root", str(tmp_path)).stdout
    schema = json.loads(_cli("task", "schema").stdout)
    assert schema["title"] == "worksample task.yaml"
