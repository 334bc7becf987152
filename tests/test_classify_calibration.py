"""The task classifier on a frozen set of hand-written prompts that no tuning ever looked at, and its
calibration: coverage >= 90% of prompts at >= 95% precision, expected calibration error <= 0.05.

tests/data/classifier_frozen_v1.jsonl (336 prompts, 12 tasks x 28, zh and en) was written by hand and
committed alone before the classifier was changed; its hash is pinned here so it cannot drift. Never tune on
it: hyper-parameters were chosen out of fold on the registry's hand-written training prompts and on
bench/data/classify_*.jsonl.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from mtsft import tasks
from mtsft.data.classify import (expected_calibration_error, fit_temperature, load_classifier, selective_scores,
                                 user_prompts)
from mtsft.data.config import ClassifyConfig

FROZEN = Path(__file__).parent / "data" / "classifier_frozen_v1.jsonl"
FROZEN_SHA256 = "76422b3ca628b54366f3d0ce6a76dc01f2d3908a2ff767353909a0a1f5862c9d"
THRESHOLD = ClassifyConfig().threshold


def _frozen() -> list[dict]:
    return [json.loads(line) for line in FROZEN.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_frozen_set_is_the_committed_one():
    assert hashlib.sha256(FROZEN.read_bytes()).hexdigest() == FROZEN_SHA256


def test_frozen_set_covers_every_task_in_both_languages():
    rows = _frozen()
    for name in tasks.names():
        for lang in ("en", "zh"):
            assert sum(r["task"] == name and r["lang"] == lang for r in rows) >= 12, (name, lang)


def _trigrams(text: str) -> set[str]:
    text = "".join(text.lower().split())
    return {text[i:i + 3] for i in range(max(len(text) - 2, 1))}


def test_training_prompts_share_no_near_duplicate_with_the_frozen_set():
    """Hand-written training prompts must not leak the test: no pair above 0.8 character-trigram Jaccard."""
    frozen = [_trigrams(r["prompt"]) for r in _frozen()]
    texts, _ = user_prompts()
    close = [(t, round(len(a & b) / len(a | b), 2)) for t in texts for a in [_trigrams(t)] for b in frozen
             if len(a & b) / len(a | b) > 0.8]
    assert not close, close[:5]


def _frozen_scores() -> dict:
    rows = _frozen()
    names, confs, _, _ = load_classifier().predict([r["prompt"] for r in rows])
    return selective_scores(confs, [n == r["task"] for n, r in zip(names, rows)], THRESHOLD)


@pytest.mark.xfail(strict=False, reason="issue 18's target, not met yet: measured coverage 0.860 at precision 0.955 "
                                        "(ECE 0.031) at the threshold chosen out of fold; see bench/results/classifier_frozen.json")
def test_classifier_meets_the_issue_targets_on_the_frozen_set():
    scores = _frozen_scores()
    assert scores["coverage"] >= 0.90 and scores["precision_when_decided"] >= 0.95, scores
    assert scores["ece"] <= 0.05, scores


def test_classifier_holds_what_it_measured_on_the_frozen_set():
    """The floor under the measured figures (coverage 0.860, precision 0.955, ECE 0.031): precision and
    calibration at the targets, coverage no lower than today's."""
    scores = _frozen_scores()
    assert scores["precision_when_decided"] >= 0.95 and scores["ece"] <= 0.05, scores
    assert scores["coverage"] >= 0.85, scores


JUNK = ["asdf", "jjjjjjj", "!!!!!", "12345 67890", "....", "🙂👍", "zzz zzz zzz", "k", "lorem ipsum dolor sit amet",
        "qwertyuiop", "啊啊啊啊啊", "？？？", "blah blah blah", "test", "###", "xkcd wqpz mnbv"]


@pytest.mark.parametrize("text", JUNK)
def test_junk_is_never_decided(text):
    """Text that asks for nothing stays below the threshold (uncertain), whatever task it resembles."""
    _, confs, _, _ = load_classifier().predict([text])
    assert confs[0] < THRESHOLD, confs[0]


# Prompts that mix two tasks' signals: either reading is fine, a confident third one is not.
MIXED = [
    ("Summarize this and translate it into Chinese: The shop is closed today.", {"summarization", "translation"}),
    ("Translate into English, then tell me if it is positive: 这家店的服务太差了。", {"translation", "classification"}),
    ("Write a poem about Python functions.", {"creative_writing"}),
    ("Write Python code that prints a poem.", {"code"}),
    ("Classify the sentiment, then rewrite it politely: you are late again!", {"classification", "rewriting"}),
    ("Extract the numbers and add them up: I bought 3 apples and 5 pears.", {"extraction", "math"}),
    ("List five facts about the Moon.", {"brainstorming", "open_qa"}),
    ("把这段话翻译成英文并总结：今天下雨，比赛推迟到明天。", {"translation", "summarization"}),
    ("用Python写一首关于春天的诗。", {"code", "creative_writing"}),
    ("你好！请问珠峰有多高？", {"open_qa", "chitchat"}),
    ("Hi! What's 15 times 4?", {"math", "chitchat", "open_qa"}),
    ("Read this review and say if it's positive: 'Great food, slow service.'", {"classification", "reading_comprehension"}),
]


@pytest.mark.parametrize("text, plausible", MIXED, ids=[m[0][:40] for m in MIXED])
def test_mixed_signals_never_give_a_confident_wrong_label(text, plausible):
    names, confs, _, _ = load_classifier().predict([text])
    assert names[0] in plausible or confs[0] < THRESHOLD, (names[0], confs[0])


def test_temperature_fit_recovers_a_known_temperature():
    """Labels drawn from softmax(z / 2) are best explained by T = 2 (independent of the classifier)."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(20_000, 5))
    p = np.exp(logits / 2)
    p /= p.sum(axis=1, keepdims=True)
    truth = [int(rng.choice(5, p=row)) for row in p]
    assert fit_temperature(logits, truth) == pytest.approx(2.0, rel=0.05)


def test_expected_calibration_error_by_hand():
    # bin 0.9: confidences 0.9, 0.9, accuracy 1/2 -> gap 0.4, weight 2/4; bin 0.6: 0.6, 0.6, accuracy 1 -> 0.4
    assert expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, True]) == pytest.approx(0.4)
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
