"""Built-in reasoning tasks (the offline default) and the task registry."""

from __future__ import annotations

from reasonsift.tasks.base import SPLITS, Item, Task, TraceCheck

TASKS: dict[str, Task] = {}
_BUILTIN_LOADED = False


def register(task: Task) -> Task:
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    _load_builtin()
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"task: unknown {name!r}; available: {', '.join(sorted(TASKS))}") from None


def task_names() -> list[str]:
    _load_builtin()
    return sorted(TASKS)


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    from reasonsift.tasks.arith import Arith

    register(Arith())
    # Other built-in tasks register here (maze, logic, ...).


__all__ = ["SPLITS", "TASKS", "Item", "Task", "TraceCheck", "get_task", "register", "task_names"]
