"""What every built-in task shares: instruction templates with a held-out subset, record building.

Each task keeps at least 8 instruction templates per language; the last `HELD_OUT` of them never appear
in training data (`held_out=False`) and are the only ones the evaluation split uses, so an eval score
measures generalisation to new phrasings rather than memorised wording. Content is held out the same way:
every content table (facts, problem kinds, code specs, topics, sentences, entities) is split once by
`partition.py`, and `held_out=True` draws only rows training never uses.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import ClassVar

from mtsft.records import make_record
from mtsft.tasks.base import Task
from mtsft.tasks.builtin import content

HELD_OUT = 2


@dataclass
class BuiltinTask(Task):
    templates: ClassVar[dict[str, list[str]]] = {}

    def pick_template(self, rng: random.Random, lang: str, held_out: bool) -> tuple[str, str]:
        """(template id like "en-3", template text) from the training or the held-out subset."""
        pool = self.templates[lang]
        first_held = len(pool) - HELD_OUT
        index = rng.randrange(first_held, len(pool)) if held_out else rng.randrange(first_held)
        return f"{lang}-{index}", pool[index]

    def user_prompts(self, lang: str) -> list[str]:
        return list(_user_prompts().get((self.name, lang), ()))

    def held_out_template_ids(self, lang: str) -> list[str]:
        pool = self.templates[lang]
        return [f"{lang}-{i}" for i in range(len(pool) - HELD_OUT, len(pool))]

    def build(self, turns: list[str], *, lang: str, template: str, held_out: bool, reference: dict,
              hard_negative: bool = False, system: str | None = None, **meta) -> dict:
        """A record from alternating user/assistant turns (user first, assistant last)."""
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]
        meta = {"template": template, "held_out": held_out, **meta}
        if hard_negative:
            meta["hard_negative"] = True
        return make_record(messages, source=f"mtsft-synth:{self.name}", task=self.name, lang=lang,
                           reference=reference, meta=meta)


@functools.cache
def _user_prompts() -> dict[tuple[str, str], list[str]]:
    """{(task, lang): prompts} from content/user_prompts.jsonl: requests written by hand the way people word
    them, for the task classifier only (never generated into training records); they teach the looser
    phrasings a template never has (no instruction verb, content first, slang, typos, mixed languages).
    The frozen test set (tests/data/classifier_frozen_v2.jsonl) shares no near-duplicate with them
    (tests/test_classify_calibration.py checks)."""
    out: dict[tuple[str, str], list[str]] = {}
    for row in content.rows("user_prompts"):
        out.setdefault((row["task"], row["lang"]), []).append(row["text"])
    return out


def pick(rng: random.Random, table: list, lang: str | None = None):
    """One row of a content table; rows are {"zh": ..., "en": ...} pairs or plain values."""
    row = rng.choice(table)
    return row[lang] if lang is not None and isinstance(row, dict) else row


def numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


def other_lang(lang: str) -> str:
    return "en" if lang == "zh" else "zh"
