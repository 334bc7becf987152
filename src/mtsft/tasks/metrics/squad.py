"""SQuAD v1.1 exact match and F1 (English), ported from the official evaluate-v1.1.py
(rajpurkar.github.io/SQuAD-explorer, "Official evaluation script for v1.1 of the SQuAD dataset").

normalize_answer: lower case, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace;
F1 over bags of whitespace tokens; the score of a prediction is its max over the ground truths.
"""

from __future__ import annotations

import re
import string
from collections import Counter

_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1_score(prediction: str, ground_truth: str) -> float:
    pred, truth = normalize_answer(prediction).split(), normalize_answer(ground_truth).split()
    common = Counter(pred) & Counter(truth)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision, recall = num_same / len(pred), num_same / len(truth)
    return 2 * precision * recall / (precision + recall)


def exact_match_score(prediction: str, ground_truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def metric_max_over_ground_truths(metric_fn, prediction: str, ground_truths: list[str]) -> float:
    return max(metric_fn(prediction, gt) for gt in ground_truths)


def f1(prediction: str, ground_truths: str | list[str]) -> float:
    truths = [ground_truths] if isinstance(ground_truths, str) else list(ground_truths)
    return metric_max_over_ground_truths(f1_score, prediction, truths)


def exact_match(prediction: str, ground_truths: str | list[str]) -> float:
    truths = [ground_truths] if isinstance(ground_truths, str) else list(ground_truths)
    return metric_max_over_ground_truths(exact_match_score, prediction, truths)
