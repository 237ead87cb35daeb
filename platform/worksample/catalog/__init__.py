"""The task catalog: the `task.yaml` model, loading, validation, JSON Schema, scaffolding."""

from worksample.catalog.loader import Problem, TaskInvalid, list_tasks, load_task, task_folders, validate_task
from worksample.catalog.scaffold import new_task
from worksample.catalog.spec import TaskSpec, task_schema

__all__ = [
    "Problem",
    "TaskSpec",
    "TaskInvalid",
    "list_tasks",
    "load_task",
    "new_task",
    "task_folders",
    "task_schema",
    "validate_task",
]
