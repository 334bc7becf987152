"""Task tags: telling the model which task a conversation is, the same way in training, eval and chat.

Modes:
- none:   the conversation is left as it is.
- system: the task's name and description go first in the system prompt (a new one if there is none).
- prefix: the first user turn starts with `[task_name] `.

Names and descriptions come from the task registry; a task the registry does not know (a user label)
is tagged with its name alone.
"""

from __future__ import annotations

from typing import Literal

TagMode = Literal["none", "system", "prefix"]
TAG_MODES = ("none", "system", "prefix")


def task_description(task: str, lang: str | None = None) -> str | None:
    from mtsft import tasks

    try:
        description = tasks.get(task).description
    except (KeyError, ImportError):
        return None
    return description.get("zh" if lang == "zh" else "en") or next(iter(description.values()), None)


def system_tag(task: str, lang: str | None = None) -> str:
    description = task_description(task, lang)
    if lang == "zh":
        return f"任务：{task}。{description}" if description else f"任务：{task}。"
    return f"Task: {task}. {description}" if description else f"Task: {task}."


def apply_task_tag(messages: list[dict], task: str | None, mode: str = "none",
                   lang: str | None = None) -> list[dict]:
    """A copy of `messages` carrying the task tag; unchanged for mode "none" or a record with no task."""
    if mode not in TAG_MODES:
        raise ValueError(f"unknown task tag mode {mode!r} (expected one of {', '.join(TAG_MODES)})")
    if mode == "none" or not task:
        return [dict(m) for m in messages]
    out = [dict(m) for m in messages]
    if mode == "system":
        tag = system_tag(task, lang)
        if out and out[0]["role"] == "system":
            out[0]["content"] = f"{tag}\n{out[0]['content']}"
        else:
            out.insert(0, {"role": "system", "content": tag})
        return out
    first_user = next(i for i, m in enumerate(out) if m["role"] == "user")
    out[first_user]["content"] = f"[{task}] {out[first_user]['content']}"
    return out
