"""The Task interface: everything a stage may ask about a task type lives on one object.

Stages never hard-code task names; they ask the registry (`mtsft.tasks.get`, `mtsft.tasks.all_tasks`).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from mtsft.records import response
from mtsft.tasks.crossing import Crossed, CrossingDraw, generic_crossed


@dataclass
class Task(ABC):
    """One task type.

    name:         registry key (e.g. "translation"); never renamed once shipped.
    description:  {"zh": ..., "en": ...}.
    signals:      {"zh": [...], "en": [...]} regular expressions found in instructions of this task; the
                  classifier uses them on unlabeled data.
    family:       a coarse group ("knowledge", "transform", "reasoning", "structured", "open") that staged
                  schedules use to group tasks.
    multi_turn:   whether `generate` can emit follow-up turns.
    metric:       the name of what `score` measures, shown beside each task's score in every scores table
                  (e.g. "gsm8k-flexible", "chrF", or a constraint verifier's checks).
    """

    # The pydantic model of the `reference` the verifier reads (mtsft.tasks.references); None: any.
    reference_model: ClassVar[type | None] = None

    name: str
    description: dict[str, str]
    signals: dict[str, list[str]] = field(default_factory=dict)
    family: str = "open"
    multi_turn: bool = False
    metric: str = "verifier"

    @abstractmethod
    def generate(self, rng: random.Random, lang: str, *, held_out: bool = False) -> dict:
        """One clean record of this task in `lang` ("zh"/"en") with `task`, `lang`, `reference` and
        `meta.template` set; `held_out=True` draws only from the templates and the content (facts, problem
        kinds, specs, topics, sentences: a fixed partition of each table) kept out of training."""

    @abstractmethod
    def score(self, output: str, record: dict) -> float:
        """How well `output` answers `record`'s last user turn, against `record["reference"]`, in [0, 1]."""

    @abstractmethod
    def format_violations(self, output: str, record: dict) -> list[str]:
        """Named format problems of `output` for this task (e.g. "prose_around_code", "invalid_json")."""

    @abstractmethod
    def output_likeness(self, output: str) -> float:
        """How much `output` looks like an answer of this task, in [0, 1], judged from the output alone
        (no prompt). Crosstalk detection and the answer-shape conflict check compare these across tasks."""

    # ---- helpers with a default (additive: tasks may override) ------------------------------------

    def reference_problem(self, record: dict) -> str | None:
        """Why `score` cannot read `record`'s reference (it does not fit `reference_model`), or None.
        Scoring asks first, so a malformed reference rejects its record with this reason instead of
        raising out of the whole job."""
        from mtsft.tasks.references import problem

        return problem(self.reference_model, record.get("reference"))

    def user_prompts(self, lang: str) -> list[str]:
        """Prompts of this task written by hand the way people word them (never generated into records): the
        task classifier learns the looser wordings from them that templates lack, and calibrates its
        confidence on them. None by default."""
        return []

    def answer_lang(self, record: dict) -> str:
        """The language the answer should be in: `reference["answer_lang"]` when the task sets it (a
        translation answers in the target language), else the record's language."""
        ref = record.get("reference")
        if isinstance(ref, dict) and ref.get("answer_lang"):
            return ref["answer_lang"]
        return record.get("lang") or "en"

    # ---- what the crosstalk judge trains on (mtsft.eval.judge; see mtsft.tasks.crossing) -------------

    def judge_record(self, record: dict, rng: random.Random, *, held_out: bool = False) -> dict:
        """`record` as the judge trains on it: a task may vary what the judge must not learn by heart (a
        passage's length, the list of labels). The record itself by default."""
        return record

    def clean_output(self, record: dict, rng: random.Random) -> str:
        """An output that performs this task on `record`: its reference answer by default."""
        return response(record)

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        """Outputs that keep `draw.record`'s content and perform another task on it (the judge's crossed
        examples). By default `generic_crossed`: a chatty reply, the request restated, the reference
        answer as code or JSON; a task that knows its reference fields does better."""
        return generic_crossed(self, draw)
