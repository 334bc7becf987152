"""How many records each task gets: the mixing rules shared by `data curate` (balance round) and
`train` (per-epoch resampling), so both read a mixture the same way.

Strategies (n_t = records available for task t, N = target total):
- proportional: p_t ∝ min(n_t, cap)                      (T5 "examples-proportional" / FLAN's cap)
- temperature:  p_t ∝ min(n_t, cap) ** (1 / T)           (T5 temperature mixing; T=1 is proportional)
- uniform:      p_t = 1 / |tasks|
- weights:      p_t ∝ w_t given explicitly (tasks without a weight get 0)
"""

from __future__ import annotations

import math
from typing import Literal

Strategy = Literal["proportional", "temperature", "uniform", "weights"]
STRATEGIES = ("proportional", "temperature", "uniform", "weights")


def mixture_rates(
    counts: dict[str, int],
    strategy: Strategy = "temperature",
    *,
    cap: int | None = None,
    temperature: float = 2.0,
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
    temperature: float = 2.0,
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
