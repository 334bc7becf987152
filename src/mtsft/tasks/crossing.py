"""Crossed examples: a task's own prompt answered by doing another task with its content.

The crosstalk judge (`mtsft.eval.judge`) learns which task an output performs from each task's clean records
and from crossed ones: the question answered where it was to be translated, the code spec restated as a
list, the label explained instead of given. What a crossed output of a task looks like depends on its
reference fields, so it is task knowledge: each task builds its own (`Task.crossed_outputs`, with
`Task.judge_record` and `Task.clean_output` for the clean side). This module holds what they share: the
draw a task works on, the phrase pools (`crossing_phrases.json`), and `generic_crossed`, the default that
a task without its own (a YAML plug-in) gets from its prompt and reference answer alone.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files
from typing import TYPE_CHECKING, Callable, NamedTuple

from mtsft import records

if TYPE_CHECKING:
    from mtsft.tasks.base import Task

# The last HELD_OUT phrases of each pool are used only when held_out=True, so a judge trained on the rest
# is tested on wordings it never saw.
HELD_OUT = 2
NUMBER = re.compile(r"\d+(?:\.\d+)?")


class Crossed(NamedTuple):
    """One crossed output: `performed` is the task it does; `kind` names how it was crossed; `prompt` is
    the prompt it answers when the crossing changed it (None: the record's own)."""

    output: str
    performed: str
    kind: str
    prompt: list[dict] | None = None


@cache
def _phrases() -> dict[str, dict[str, list[str]]]:
    text = files("mtsft.tasks").joinpath("crossing_phrases.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def prompt_messages(record: dict) -> list[dict]:
    """The record's turns up to its final answer, system prompt left out: the prompt an output answers."""
    msgs = [m for m in record["messages"] if m["role"] != "system"]
    return msgs[:-1] if msgs and msgs[-1]["role"] == "assistant" else msgs


def sentences(text: str, lang: str) -> list[str]:
    parts = re.split(r"(?<=[。！？])" if lang == "zh" else r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if p.strip()]


def clauses(text: str) -> list[str]:
    return [c.strip(" ，,。.;；") for c in re.split(r"[,，;；。]|(?<=[a-z])\. ", text) if len(c.strip()) > 3]


def joiner(lang: str) -> str:
    """What joins sentences: a space in English, nothing in Chinese."""
    return " " if lang == "en" else ""


@dataclass
class CrossingDraw:
    """One record of `task` to cross, with what crossing it needs.

    seed:          the seed that drew the record (the same seed draws the parallel record in the other
                   language, and matching records of other tasks);
    rng:           the draw's random stream (crossings consume it in a fixed order: the judge's training
                   pairs depend on it);
    read_material: the judge's prompt reader: what a record's prompt quotes for the task to work on.
    """

    task: Task
    record: dict
    seed: int
    rng: random.Random
    held_out: bool
    read_material: Callable[[dict], str]

    @property
    def lang(self) -> str:
        return self.record["lang"]

    @property
    def reference(self) -> dict:
        return self.record["reference"]

    @cached_property
    def material(self) -> str:
        return self.read_material(self.record)

    @cached_property
    def other(self) -> dict:
        """The same draw in the other language (the built-in tables are parallel)."""
        return self.task.generate(random.Random(self.seed), "en" if self.lang == "zh" else "zh", held_out=self.held_out)

    def translated_request(self) -> Crossed:
        """The request translated instead of performed: the parallel record's material."""
        return Crossed(self.read_material(self.other), "translation", "translated_material")

    def pool(self, name: str) -> list[str]:
        pool = _phrases()[name][self.lang]
        return pool[-HELD_OUT:] if self.held_out else pool[:-HELD_OUT]

    def pick(self, name: str) -> str:
        return self.rng.choice(self.pool(name))

    def snippet(self, text: str) -> str:
        """A short clause of `text`, to quote."""
        return self.rng.choice(clauses(text) or [text])[:40]


def generic_crossed(task: Task, draw: CrossingDraw) -> list[Crossed]:
    """Crossings any task has without knowing its fields: a chatty reply (chitchat), the request restated
    (summarization), the reference answer wrapped as code (code) or as JSON (extraction). An option that
    names the task itself, or looks like its own answers (`output_likeness` >= 0.5: a code-shaped task's
    answer wrapped as code is still its answer), is left out."""
    answer = records.response(draw.record)
    lead = draw.pick("summary_lead")
    options = [Crossed(draw.pick("chat"), "chitchat", "chatted"),
               Crossed(f"```python\nanswer = {json.dumps(answer, ensure_ascii=False)}\nprint(answer)\n```", "code",
                       "answer_as_code"),
               Crossed(json.dumps({"answer": answer}, ensure_ascii=False), "extraction", "answer_as_json")]
    if lead:  # unframed, the request repeated is an echo, which performs no task at all
        options.append(Crossed(lead + draw.material, "summarization", "restated_request"))
    return [c for c in options if c.performed != task.name and task.output_likeness(c.output) < 0.5]
