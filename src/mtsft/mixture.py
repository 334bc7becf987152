"""A mixture: how many records each task gets, and how an up-sampled record is varied.

Shared by `data curate` (the balance round) and `train` (per-epoch resampling), so both read a mixture
the same way and train the same augmentations: one `MixtureConfig`, one `mixture_counts`, one `augment`.

Strategies (n_t = records available for task t, N = target total):
- proportional: p_t ∝ min(n_t, cap)                      (T5 "examples-proportional" / FLAN's cap)
- temperature:  p_t ∝ min(n_t, cap) ** (1 / T)           (T5 temperature mixing; T=1 is proportional)
- uniform:      p_t = 1 / |tasks|
- weights:      p_t ∝ w_t given explicitly (tasks without a weight get 0)
"""

from __future__ import annotations

import copy
import math
import random
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mtsft.config import StrictConfig, Weight

Strategy = Literal["proportional", "temperature", "uniform", "weights"]
STRATEGIES = ("proportional", "temperature", "uniform", "weights")
DEFAULT_TEMPERATURE = 3.0  # between T5's T=2 and mT5's T~3.3: rare tasks rise without swamping the frequent


class MixtureConfig(StrictConfig):
    """How many records of each task a mixture draws. `total` defaults to the records available."""

    strategy: Strategy = "temperature"
    # at least 0.1: counts are raised to 1/T, and a smaller T overflows a float (n ** 1000) for any real task
    temperature: float = Field(DEFAULT_TEMPERATURE, ge=0.1)
    cap: int | None = Field(None, gt=0)          # per-task cap before mixing (T5/FLAN)
    total: int | None = Field(None, ge=1)
    weights: dict[str, Weight] | None = None     # {task: weight} for strategy "weights"

    @field_validator("weights")
    @classmethod
    def _not_all_zero(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        if weights and not any(w > 0 for w in weights.values()):
            raise ValueError("every weight is 0: the mixture would be empty")
        return weights

    @model_validator(mode="after")
    def _weights_given(self) -> MixtureConfig:
        if self.strategy == "weights" and not self.weights:
            raise ValueError("strategy 'weights' needs weights, e.g. --weights code=2,math=1")
        return self

    def counts(self, available: dict[str, int]) -> dict[str, int]:
        return mixture_counts(available, self.strategy, total=self.total, cap=self.cap,
                              temperature=self.temperature, weights=self.weights)


def mixture_rates(
    counts: dict[str, int],
    strategy: Strategy = "temperature",
    *,
    cap: int | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
    weights: dict[str, float] | None = None,
) -> dict[str, float]:
    """Sampling rate per task (sums to 1 over tasks with a positive rate)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown mixture strategy {strategy!r} (expected one of {', '.join(STRATEGIES)})")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    capped = {t: min(n, cap) if cap else n for t, n in counts.items()}
    if strategy == "proportional":
        raw = {t: float(n) for t, n in capped.items()}
    elif strategy == "temperature":
        raw = {t: float(n) ** (1.0 / temperature) if n > 0 else 0.0 for t, n in capped.items()}
    elif strategy == "uniform":
        raw = {t: 1.0 if n > 0 else 0.0 for t, n in counts.items()}
    else:
        if not weights:
            raise ValueError("strategy 'weights' needs weights, e.g. --weights code=2,math=1")
        unknown = sorted(set(weights) - set(counts))
        if unknown:
            raise ValueError(f"weights name tasks that have no records: {', '.join(unknown)}")
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights must be >= 0")
        raw = {t: float(weights.get(t, 0.0)) for t in counts}
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("the mixture is empty: no task has records (or every weight is 0)")
    return {t: r / total for t, r in raw.items()}


def mixture_counts(
    counts: dict[str, int],
    strategy: Strategy = "temperature",
    *,
    total: int | None = None,
    cap: int | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
    weights: dict[str, float] | None = None,
) -> dict[str, int]:
    """Target number of records per task; `total` defaults to the number of records available.

    Rounding uses the largest-remainder method so the targets add up to `total` exactly.
    """
    rates = mixture_rates(counts, strategy, cap=cap, temperature=temperature, weights=weights)
    total = sum(counts.values()) if total is None else total
    if total < 0:
        raise ValueError(f"target total must be >= 0, got {total}")
    exact = {t: r * total for t, r in rates.items()}
    floor = {t: math.floor(x) for t, x in exact.items()}
    short = total - sum(floor.values())
    for t in sorted(exact, key=lambda t: (floor[t] - exact[t], t))[:short]:
        floor[t] += 1
    return floor


def parse_weights(text: str | None) -> dict[str, float] | None:
    """'code=2,math=1' -> {'code': 2.0, 'math': 1.0}."""
    if not text:
        return None
    out = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--weights {text!r}: expected task=number pairs, bad part {part!r}") from None
        if not sep or not name.strip():
            raise ValueError(f"--weights {text!r}: expected task=number pairs, bad part {part!r}")
    return out


# ---- augmentations: how an up-sampled record differs from its source ----------------------------------

SYSTEM_PROMPTS = {
    "en": ["You are a helpful assistant.", "You are a careful, precise assistant.",
           "You are an assistant that answers exactly what is asked.", "You are a knowledgeable and concise assistant."],
    "zh": ["你是一个乐于助人的助手。", "你是一个认真、严谨的助手。", "你是一个只回答所问内容的助手。", "你是一个知识丰富、回答简洁的助手。"],
}
# Framings that re-phrase the request around the original instruction without changing what it asks.
REPHRASINGS = {
    "en": ["Please help me with the following.\n\n{p}", "{p}\n\nThank you!", "Here is my request:\n{p}",
           "I need your help with this one.\n{p}", "Task:\n{p}"],
    "zh": ["请帮我完成下面的任务。\n\n{p}", "{p}\n\n谢谢！", "我的请求如下：\n{p}", "这个问题需要你帮忙：\n{p}", "任务：\n{p}"],
}
AUGMENTATIONS = ("rephrase", "system_prompt")


def _lang(record: dict) -> str:
    return "zh" if record.get("lang") == "zh" else "en"


def augment(record: dict, how: str, k: int, rng: random.Random) -> dict:
    """A copy of `record` varied by `how` (rephrase | system_prompt), its id marked with `~{how}{k}`."""
    new = copy.deepcopy(record)
    new["id"] = f"{record['id']}~{how}{k}"
    msgs = new["messages"]
    if how == "rephrase":
        first_user = next(i for i, m in enumerate(msgs) if m["role"] == "user")
        msgs[first_user]["content"] = rng.choice(REPHRASINGS[_lang(record)]).format(p=msgs[first_user]["content"])
    elif how == "system_prompt":
        current = msgs[0]["content"] if msgs[0]["role"] == "system" else None
        choice = rng.choice([s for s in SYSTEM_PROMPTS[_lang(record)] if s != current])
        if current is None:
            msgs.insert(0, {"role": "system", "content": choice})
        else:
            msgs[0]["content"] = choice
    new["meta"] = {**new.get("meta", {}), "upsampled": {"from": record["id"], "how": how}}
    return new
