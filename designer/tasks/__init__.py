"""The sample tasks, one module each, and the registry that finds them by name."""

from __future__ import annotations

from typing import Any, Protocol

from designer.i18n import N_, Text, unknown_name
from designer.tasks.adding import AddingTask
from designer.tasks.base import IGNORE, MAX_SEQ_LEN, Param, Task, TaskDataError, shown
from designer.tasks.brackets import BracketsTask
from designer.tasks.charlm import CharLMTask
from designer.tasks.copy import CopyTask
from designer.tasks.csv import CSVTask, SeriesTask
from designer.tasks.multivariate import MultivariateTask
from designer.tasks.parity import ParityTask
from designer.tasks.sentiment import SentimentTask
from designer.tasks.sine import SineTask


class TaskSpec(Protocol):
    """What names a task: designer.document.spec.TaskSpec (this package does not import the
    spec, so that the arrows between the engine's modules run one way)."""

    name: str

    @property
    def params(self) -> dict[str, Any]: ...


TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (
        SineTask,
        MultivariateTask,
        AddingTask,
        CopyTask,
        ParityTask,
        BracketsTask,
        SentimentTask,
        CharLMTask,
        SeriesTask,
        CSVTask,
    )
}

__all__ = [
    "IGNORE",
    "MAX_SEQ_LEN",
    "TASKS",
    "Param",
    "Task",
    "TaskDataError",
    "check_task_params",
    "get_task",
    "make_task",
]


def check_task_params(name: str, params: dict[str, Any]) -> list[tuple[str, Text]]:
    """Every problem with a task section, as (field, sentence) pairs."""
    if name not in TASKS:
        message = unknown_name(
            name,
            TASKS,
            N_("unknown task {name} (did you mean '{hint}'?); the tasks are {tasks}"),
            N_("unknown task {name}; the tasks are {tasks}"),
            name=shown(name),
            tasks=", ".join(TASKS),
        )
        return [("name", message)]
    declared = {p.name: p for p in TASKS[name].PARAMS}
    problems = []
    for key, value in params.items():
        if key not in declared:
            message = _unknown_param(name, key, declared)
            problems.append((key, message))
            continue
        message = declared[key].check(value)
        if message:
            problems.append((key, message))
    return problems


def _unknown_param(name: str, key: str, declared: dict[str, Param]) -> Text:
    """The sentence for a parameter `key` that task `name` does not take."""
    if not declared:
        return Text("unknown parameter of task '{name}'; it takes none", name=name)
    return unknown_name(
        key,
        declared,
        N_("unknown parameter of task '{name}' (did you mean '{hint}'?); it takes {known}"),
        N_("unknown parameter of task '{name}'; it takes {known}"),
        name=name,
        known=", ".join(declared),
    )


def make_task(name: str, params: dict[str, Any] | None = None) -> Task:
    """Build a task from its name and (already checked) parameters, filling defaults."""
    cls = TASKS[name]
    full = {p.name: p.default for p in cls.PARAMS}
    full.update(params or {})
    return cls(params=full)


def get_task(spec: TaskSpec) -> Task:
    """The task an experiment's task section names, with its parameters:
    `get_task(exp.task)`."""
    return make_task(spec.name, spec.params)
