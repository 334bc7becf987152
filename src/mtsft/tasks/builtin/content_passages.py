"""Passage skeletons for reading_comprehension and summarization (written for this project).

A skeleton is a text in English and Chinese over entity slots filled from the shared tables (`tables.py`)
and number slots drawn from the given ranges; reading-comprehension skeletons carry questions whose
answers are spans of the passage, summarization skeletons a one-sentence summary. Held-out draws use
held-out skeletons and held-out entities only (`partition.py`).
"""

from __future__ import annotations

import random

from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin import tables as T

ENTITY_TABLES = {"person": T.PEOPLE, "person2": T.PEOPLE, "city": T.CITIES, "shop": T.SHOPS, "place": T.PLACES,
                 "item": T.ITEMS, "org": T.ORGS, "product": T.PRODUCTS, "month": T.MONTHS, "season": T.SEASONS,
                 "vehicle": T.VEHICLES}


def slots(rng: random.Random, skeleton: dict, held_out: bool) -> dict[str, dict]:
    """{slot: {"en": ..., "zh": ...}} for the entity and number slots the skeleton uses."""
    out: dict[str, dict] = {}
    text = skeleton["en"] + skeleton.get("zh", "")
    for name, table in ENTITY_TABLES.items():
        if "{" + name in text:
            row = P.choose(rng, table, held_out)
            while name == "person2" and row is out.get("person"):
                row = P.choose(rng, table, held_out)
            out[name] = row
    for name, (lo, hi) in skeleton.get("nums", {}).items():
        n = rng.randint(lo, hi)
        out[name] = {"en": str(n), "zh": str(n)}
    return out


def fill(template: str, values: dict[str, dict], lang: str) -> str:
    return template.format(**{k: v[lang] for k, v in values.items()})


# reading comprehension (content/passages_stories.jsonl): a passage "en", "zh"; "qa", each (en question,
# en answer, zh question, zh answer); "nums", each number slot's (lowest, highest)
RC_STORIES = content.rows("passages_stories")
# summarization (content/passages_summaries.jsonl): a text "en", "zh", its summary "sum_en", "sum_zh", and "nums"
SUM_TEXTS = content.rows("passages_summaries")


def rc_story(rng: random.Random, story: dict, lang: str, held_out: bool) -> tuple[str, list[tuple[str, str]]]:
    """(passage, [(question, answer)]) of a reading-comprehension skeleton in `lang`."""
    values = slots(rng, story, held_out)
    qa = [(fill(q_en, values, "en"), fill(a_en, values, "en")) if lang == "en" else
          (fill(q_zh, values, "zh"), fill(a_zh, values, "zh")) for q_en, a_en, q_zh, a_zh in story["qa"]]
    return fill(story[lang], values, lang), qa


def summary_text(rng: random.Random, kind: dict, lang: str, held_out: bool) -> tuple[str, str]:
    """(text, one-sentence summary) of a summarization skeleton in `lang`."""
    values = slots(rng, kind, held_out)
    return fill(kind[lang], values, lang), fill(kind["sum_" + lang], values, lang)
