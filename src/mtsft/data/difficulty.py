"""Difficulty: a per-record estimate so balancing can keep each task's spread of easy and hard records.

Always: cheap heuristics (answer length, reasoning steps, constraints in the instruction, turns).
With a model (`--model`): the instruction-following difficulty (IFD, Li et al. 2024) = the model's loss on
the answer given the instruction / its loss on the answer alone; a high IFD means the instruction helps
little, i.e. the record is hard for the model. The two are combined by rank so their scales never matter.
"""

from __future__ import annotations

import math
import re

import numpy as np

from mtsft.data.common import curate_meta, progress
from mtsft.data.parallel import map_chunks
from mtsft.records import assistant_turns, prompt, response

_STEP = re.compile(r"^\s*(?:\d+[.)、]|[-*•]|step\s*\d+|第[一二三四五六七八九十\d]+步)", re.I | re.M)
_REASONING = re.compile(r"\b(?:therefore|thus|so|because|then|first|next|finally)\b|因此|所以|因为|首先|然后|接着|最后|=", re.I)
_CONSTRAINT = re.compile(
    r"\b(?:must|should|exactly|at (?:least|most)|no more than|only|without|do not|don't|in \d+ (?:words|sentences)"
    r"|json|format|bullet|list)\b|\d+|必须|至少|最多|不超过|不要|只|仅|格式|字以内|以内|列出|要求", re.I)


def heuristic_difficulty(record: dict) -> float:
    """0..1: longer answers, more reasoning steps, more constraints and more turns are harder."""
    answer = response(record)
    tokens = curate_meta(record).get("tokens", len(answer) // 3 + 1)
    steps = len(_STEP.findall(answer)) + len(_REASONING.findall(answer))
    constraints = len(_CONSTRAINT.findall(prompt(record)))
    turns = len(assistant_turns(record))
    return round(0.35 * min(math.log1p(tokens) / math.log(2048), 1.0) + 0.3 * min(steps / 10, 1.0)
                 + 0.2 * min(constraints / 6, 1.0) + 0.15 * min((turns - 1) / 3, 1.0), 4)


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks / max(len(values) - 1, 1)


def model_ifd(records: list[dict], model_spec: str, max_tokens: int = 512, show: bool = True) -> np.ndarray:
    """Instruction-following difficulty per record: loss(answer | instruction) / loss(answer)."""
    import torch

    from mtsft.model import load_model, load_tokenizer

    tok = load_tokenizer(model_spec)
    model = load_model(model_spec).eval()

    def answer_loss(context: str, answer: str) -> float:
        ctx = tok(context, add_special_tokens=False)["input_ids"][-max_tokens // 2:] if context else []
        ans = tok(answer, add_special_tokens=False)["input_ids"][: max_tokens - len(ctx)]
        ids = torch.tensor([([tok.bos_token_id] if tok.bos_token_id is not None and not ctx else []) + ctx + ans])
        labels = ids.clone()
        labels[0, : ids.shape[1] - len(ans)] = -100
        with torch.no_grad():
            return float(model(input_ids=ids, labels=labels).loss)

    out = np.zeros(len(records))
    for i, r in enumerate(progress(records, "difficulty (model)", show)):
        answer = response(r)
        out[i] = answer_loss(prompt(r) + "\n", answer) / max(answer_loss("", answer), 1e-6)
    return out


def heuristic_batch(records: list[dict]) -> list[float]:
    """`heuristic_difficulty` of a batch (the worker pool calls it)."""
    return [heuristic_difficulty(r) for r in records]


def difficulty_round(records: list[dict], model_spec: str | None = None, show: bool = True, workers: int = 1) -> None:
    """Annotate `meta.curate.difficulty` (0..1) on every record; rejects nothing. The heuristics run per
    chunk in `workers` processes (three regexes per record were a serial second per 20k records)."""
    if not records:
        return
    scores = np.array(map_chunks(heuristic_batch, records, (), workers))
    if model_spec:
        ifd = model_ifd(records, model_spec, show=show)
        scores = (_ranks(scores) + _ranks(ifd)) / 2
        for r, v in zip(records, ifd):
            curate_meta(r)["ifd"] = round(float(v), 4)
    for r, v in zip(records, scores):
        curate_meta(r)["difficulty"] = round(float(v), 4)
