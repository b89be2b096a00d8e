"""Built-in reasoning tasks (the offline default) and the task registry."""

from __future__ import annotations

from reasonsift.tasks.base import SPLITS, BuiltinTask, Item, Task, TraceCheck
from reasonsift.tasks.outcome import STATES, Outcome

GYM_PREFIX = "gym:"
TASKS: dict[str, BuiltinTask] = {}
_GYM: dict[str, Task] = {}  # one GymTask per dataset, so its generated reasoning-gym datasets are reused
_BUILTIN_LOADED = False


def register(task: BuiltinTask) -> BuiltinTask:
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    """A built-in task by name, or ``gym:<dataset>`` for any reasoning-gym dataset (a :class:`GymTask`)."""
    _load_builtin()
    if name.startswith(GYM_PREFIX):
        from reasonsift.tasks.gym import GymTask

        if name not in _GYM:
            _GYM[name] = GymTask(name[len(GYM_PREFIX) :])
        return _GYM[name]
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(
            f"task: unknown {name!r}; available: {', '.join(sorted(TASKS))} or {GYM_PREFIX}<reasoning-gym dataset>"
        ) from None


def task_names() -> list[str]:
    _load_builtin()
    return sorted(TASKS)


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    from reasonsift.tasks.arith import Arith
    from reasonsift.tasks.logic import Logic
    from reasonsift.tasks.maze import Maze

    for task in (Arith(), Maze(), Logic()):
        register(task)


__all__ = [
    "SPLITS",
    "STATES",
    "TASKS",
    "BuiltinTask",
    "Item",
    "Outcome",
    "Task",
    "TraceCheck",
    "get_task",
    "register",
    "task_names",
]
