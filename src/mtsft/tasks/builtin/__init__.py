"""The 12 built-in task types, one module each; importing this package registers them."""

from __future__ import annotations

from mtsft.tasks import register
from mtsft.tasks.builtin import (
    brainstorming,
    chitchat,
    classification,
    code,
    creative_writing,
    extraction,
    math,
    open_qa,
    reading_comprehension,
    rewriting,
    summarization,
    translation,
)

BUILTIN_MODULES = (open_qa, reading_comprehension, translation, code, math, classification, extraction,
                   summarization, rewriting, brainstorming, creative_writing, chitchat)

for _module in BUILTIN_MODULES:
    register(_module.TASK, replace=True)
