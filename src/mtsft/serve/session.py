"""What chat and serve share: loading a model with its run's task-tag mode, and rendering a conversation
into a prompt the way training rendered it (the task tag of a forced task, or of the task the classifier
reads from the last user message when the run was trained with tags)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtsft.eval.generate import render_prompts

ROLES = ("system", "user", "assistant")


@dataclass
class Loaded:
    model: object
    tokenizer: object
    name: str          # what /v1/models lists and the card calls it
    tag_mode: str      # "none", "system" or "prefix"
    run: Path | None   # the run directory when an adapter/run was given

    @property
    def context_length(self) -> int:
        n = getattr(self.model.config, "max_position_embeddings", None) or 2048
        return int(min(n, getattr(self.tokenizer, "model_max_length", n) or n))


def load(model: str | None = None, adapter: str | None = None, *, task_tags: str | None = None, log=print) -> Loaded:
    """The model (and adapter run) with its task-tag mode: `task_tags` when given, else the run's, else none."""
    from mtsft.model import BUILTIN, load_for_inference, run_task_tags

    model = model or BUILTIN
    m, tok = load_for_inference(model, adapter, log=log)
    mode = task_tags or (run_task_tags(adapter) if adapter else "none")
    name = Path(adapter).resolve().name if adapter else ("smollm2-135m-instruct" if model == BUILTIN else model)
    return Loaded(m, tok, name, mode, Path(adapter) if adapter else None)


def task_names() -> list[str]:
    from mtsft import tasks

    return sorted(tasks.names())


def check_task(name: str) -> str:
    names = task_names()
    if name not in names:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(names)}")
    return name


def detect_task(text: str) -> str | None:
    """The task the classifier reads from a user message (None when it is unsure)."""
    from mtsft.data.classify import load_classifier

    names, confs, _, _ = load_classifier().predict([text])
    return names[0] if confs[0] >= 0.3 else None


def task_for(messages: list[dict], tag_mode: str, forced: str | None = None) -> str | None:
    """The task to tag a conversation with: the forced one, else (only when the run uses tags) detected."""
    if forced:
        return forced
    if tag_mode == "none":
        return None
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return detect_task(last_user) if last_user.strip() else None


def prepare(loaded: Loaded, messages: list[dict], forced_task: str | None = None) -> tuple[str, list[int]]:
    """A conversation's prompt and its tokens: the task classifier, the chat template and the tokenizer.
    CPU work that would stall every stream: the API runs it in a worker thread, off the event loop."""
    task = task_for(messages, loaded.tag_mode, forced_task)
    prompt = render(loaded, messages, task, forced=forced_task is not None)
    return prompt, loaded.tokenizer(prompt, add_special_tokens=False)["input_ids"]


def render(loaded: Loaded, messages: list[dict], task: str | None, *, forced: bool = False) -> str:
    """The prompt text. A task forced by the user on a model trained without tags still needs a way in:
    it goes in the system prompt (the "system" tag)."""
    from mtsft.text import detect_lang

    mode = "system" if forced and task and loaded.tag_mode == "none" else loaded.tag_mode
    lang = detect_lang(" ".join(m["content"] for m in messages if m["role"] == "user"))
    return render_prompts(loaded.tokenizer, [messages], tasks=[task], tag_mode=mode, langs=[lang])[0]
