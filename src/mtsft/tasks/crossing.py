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


# ---- weak outputs: no crossing ---------------------------------------------------------------------
# What a small model writes when it fails a task is mostly not another task: it garbles the prompt's words,
# copies the material, stops mid-answer, or answers an open request in the other language. Read without
# examples of these, a judge calls them crossed (hand-labelled real outputs of the embedded model: 28%
# false alarms on weak but on-task attempts, 48% on outputs that do no task), so each task's weak outputs
# are judge training rows too, labelled with the task (a poor attempt) or NO_TASK.
NO_TASK = "none"
_FILLER = {"zh": ["你可以", "你可能", "这是一个", "我们", "看到", "明明", "所以", "说明", "我将", "你看这个"],
           "en": ["I'm going to", "You can", "This is a", "The", "I think", "and the", "you can see", "is a"]}


def garbled(text: str, lang: str, rng: random.Random) -> str:
    """Prompt fragments and filler words strung together and repeated, cut anywhere: what a failing small
    model writes."""
    if lang == "zh":
        han = "".join(re.findall(r"[\u4e00-\u9fff，]", text)) or "你好"
        pieces = []
        for _ in range(rng.randint(2, 5)):
            start = rng.randrange(max(1, len(han) - 2))
            pieces.append(rng.choice(_FILLER["zh"]) + han[start:start + rng.randint(2, 7)] if rng.random() < 0.5
                          else han[start:start + rng.randint(2, 7)])
        body = rng.choice(["", "，", "！", "的"]).join(pieces)
    else:
        words = re.findall(r"[A-Za-z']+", text) or ["the"]
        pieces = []
        for _ in range(rng.randint(2, 5)):
            start = rng.randrange(len(words))
            span = " ".join(words[start:start + rng.randint(1, 5)])
            pieces.append(f"{rng.choice(_FILLER['en'])} {span}" if rng.random() < 0.5 else span)
        body = rng.choice([" ", ", ", ". "]).join(pieces)
    out = joiner(lang).join([body] * rng.choice([1, 1, 2, 3]))
    return out[:rng.randint(8, 80)] + rng.choice(["", "", "\ufffd"])


def truncated(output: str, rng: random.Random) -> str:
    """An answer cut off by the token cap (a multi-byte character cut in half shows as U+FFFD)."""
    if len(output) < 12:
        return output
    return output[:rng.randint(max(6, len(output) // 3), len(output) - 1)] + rng.choice(["", "\ufffd"])


def weak_outputs(task: Task, draw: CrossingDraw) -> list[Crossed]:
    """Weak outputs of `task`'s prompt that perform no other task: prompt words garbled, the material's
    opening copied (no task), the clean answer cut short (still the task), and, for an open-ended task, its
    answer in the other language (a story or a chat reply in English is still a story or a reply). A
    copy the task itself would accept as its answer (`output_likeness` >= 0.5) is left out."""
    request = prompt_messages(draw.record)[-1]["content"]
    options = [Crossed(garbled(request, draw.lang, draw.rng), NO_TASK, "garbled"),
               Crossed(truncated(task.clean_output(draw.record, draw.rng), draw.rng), task.name, "cut_short")]
    sents = sentences(draw.material, draw.lang)
    if draw.material != request.strip() and sents:
        copied = joiner(draw.lang).join(sents[:draw.rng.choice([1, 2])])
        if task.output_likeness(copied) < 0.5:
            options.append(Crossed(copied, NO_TASK, "copied_material"))
    if task.family == "open":
        options.append(Crossed(task.clean_output(draw.other, draw.rng), task.name, "answered_in_other_language"))
    return options
