"""The task registry: the one place that knows which task types exist.

Built-in tasks register themselves when `mtsft.tasks.builtin` is imported; users add theirs through the
`mtsft.tasks` entry-point group or YAML files (`load_yaml_tasks`, or the MTSFT_TASKS environment variable:
paths separated by ':').
"""

from __future__ import annotations

from mtsft.tasks.base import Task

_REGISTRY: dict[str, Task] = {}
_loaded = False


def register(task: Task, *, replace: bool = False) -> Task:
    if task.name in _REGISTRY and not replace:
        raise ValueError(f"task {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    import mtsft.tasks.builtin  # noqa: F401  (registers the built-in tasks)
    from mtsft.tasks.plugins import env_task_files, load_entry_point_tasks, load_yaml_tasks

    load_entry_point_tasks()
    # MTSFT_TASKS=a.yaml:b.yaml makes YAML task types visible to every command (curate, train, eval...).
    for path in env_task_files():
        load_yaml_tasks(path, replace=True)
    _loaded = True


def get(name: str) -> Task:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def all_tasks() -> list[Task]:
    _ensure_loaded()
    return list(_REGISTRY.values())


def names() -> list[str]:
    _ensure_loaded()
    return list(_REGISTRY)


__all__ = ["Task", "register", "get", "all_tasks", "names"]
