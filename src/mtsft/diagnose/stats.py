"""Intervals the verdicts are decided on: Wilson for rates, percentile bootstrap for means and differences.

Two models that answered the same prompts are compared on paired differences (`paired_stat_ci`, the one
paired bootstrap: it resamples prompts, keeping each prompt's answers together). Resampling each side
alone (`diff_ci`) counts the prompts' own difficulty as noise twice over; it is for numbers measured on
different records (two tasks, seen vs held-out content), or when per-record scores are missing."""

from __future__ import annotations

import math

import numpy as np

from mtsft.eval.evaluate import bootstrap_ci as mean_ci  # noqa: F401 - the one percentile bootstrap of a mean

Z95 = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float] | None:
    """95% Wilson score interval of k successes in n trials (None for n = 0)."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def diff_ci(a, b, samples: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """Interval of mean(a) - mean(b), a and b resampled independently (two tasks, or two unpaired runs)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return None
    rng = _rng(seed)
    ma = a[rng.integers(0, len(a), size=(samples, len(a)))].mean(axis=1)
    mb = b[rng.integers(0, len(b), size=(samples, len(b)))].mean(axis=1)
    d = ma - mb
    return float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))


def diff_ci_from_intervals(a: float, a_ci, b: float, b_ci) -> tuple[float, float] | None:
    """mean(a) - mean(b) from two reported 95% intervals (half-widths added in quadrature)."""
    if not a_ci or not b_ci:
        return None
    lo = math.hypot(a - a_ci[0], b_ci[1] - b)
    hi = math.hypot(a_ci[1] - a, b - b_ci[0])
    return a - b - lo, a - b + hi


def paired_stat_ci(fn, arrays: list, samples: int = 1000, seed: int = 0):
    """(fn(*arrays), interval) resampling the rows of equally long arrays together."""
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    point = float(fn(*arrays))
    n = len(arrays[0])
    if n < 2:
        return point, None
    idx = _rng(seed).integers(0, n, size=(samples, n))
    stats = np.array([fn(*(a[i] for a in arrays)) for i in idx])
    return point, (float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5)))


def paired_mean_diff(before, after, samples: int = 1000, seed: int = 0):
    """(mean(after - before), interval): the change on the same records, prompts resampled."""
    return paired_stat_ci(lambda b, a: (a - b).mean(), [before, after], samples, seed)


def paired_macro_diff(groups, before, after, samples: int = 1000, seed: int = 0):
    """(macro change, interval): the mean over groups (tasks) of each group's mean change, prompts resampled
    together; `groups` holds each record's group as an integer code."""
    def macro(g, b, a):
        g = g.astype(int)
        n = np.bincount(g)
        seen = n > 0
        return (np.bincount(g, weights=a - b)[seen] / n[seen]).mean()
    return paired_stat_ci(macro, [groups, before, after], samples, seed)


def spearman(x, y) -> float | None:
    """Spearman rank correlation (average ranks for ties); None when either side is constant."""
    if len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    if np.std(rx) == 0 or np.std(ry) == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):
        tie = values == v
        ranks[tie] = ranks[tie].mean()
    return ranks
