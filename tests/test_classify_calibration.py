"""The task classifier on a frozen set of hand-written prompts that no tuning ever looked at, and its
calibration: coverage >= 90% of prompts at >= 95% precision, expected calibration error <= 0.05.

tests/data/classifier_frozen_v2.jsonl (528 prompts, 12 tasks x 22, zh and en) was written by hand and
committed alone (41cbd1b) before the classifier was changed; its hash is pinned here so it cannot drift. It
was measured once before the change and once after; never tune on it: every hyper-parameter, the threshold
included, was chosen out of fold on the registry's hand-written training prompts and on the dev sets.

tests/data/classifier_frozen_v1.jsonl (336 prompts) was the frozen set before; measured twice and tuned
around, it is a dev set now, kept (pinned too) as a reference: the training prompts stay clear of it, so its
figures still say something about wordings the classifier has not seen verbatim.
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

DATA = Path(__file__).parent / "data"
FROZEN = DATA / "classifier_frozen_v2.jsonl"
FROZEN_SHA256 = "4c6fd8d92cadcaa048c1e5993e590067fbacff02c4da1d2b7cc01963d02bdc2c"
DEV_V1 = DATA / "classifier_frozen_v1.jsonl"
DEV_V1_SHA256 = "76422b3ca628b54366f3d0ce6a76dc01f2d3908a2ff767353909a0a1f5862c9d"
THRESHOLD = ClassifyConfig().threshold


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path, sha256", [(FROZEN, FROZEN_SHA256), (DEV_V1, DEV_V1_SHA256)], ids=["v2", "v1"])
def test_frozen_sets_are_the_committed_ones(path, sha256):
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def test_frozen_set_covers_every_task_in_both_languages():
    rows = _rows(FROZEN)
    for name in tasks.names():
        for lang in ("en", "zh"):
            assert sum(r["task"] == name and r["lang"] == lang for r in rows) >= 20, (name, lang)


def _trigrams(text: str) -> set[str]:
    text = "".join(text.lower().split())
    return {text[i:i + 3] for i in range(max(len(text) - 2, 1))}


@pytest.mark.parametrize("path", [FROZEN, DEV_V1], ids=["v2", "v1"])
def test_training_prompts_share_no_near_duplicate_with_the_frozen_set(path):
    """Hand-written training prompts must not leak the test: no pair above 0.8 character-trigram Jaccard."""
    frozen = [_trigrams(r["prompt"]) for r in _rows(path)]
    texts, _ = user_prompts()
    close = [(t, round(len(a & b) / len(a | b), 2)) for t in texts for a in [_trigrams(t)] for b in frozen
             if len(a & b) / len(a | b) > 0.8]
    assert not close, close[:5]


def _scores(path: Path) -> dict:
    rows = _rows(path)
    names, confs, _, _ = load_classifier().predict([r["prompt"] for r in rows])
    return selective_scores(confs, [n == r["task"] for n, r in zip(names, rows)], THRESHOLD)


def test_classifier_meets_the_issue_targets_on_the_frozen_set():
    scores = _scores(FROZEN)
    assert scores["coverage"] >= 0.90 and scores["precision_when_decided"] >= 0.95, scores
    assert scores["ece"] <= 0.05, scores


def test_classifier_holds_what_it_measured_on_the_frozen_set():
    """The floor under the measured figures (bench/results/classifier_frozen.json: coverage 0.974 at precision
    0.977, ECE 0.028, threshold 0.55; before the change, at 0.7: coverage 0.881, precision 0.981, ECE 0.050)."""
    scores = _scores(FROZEN)
    assert scores["precision_when_decided"] >= 0.95 and scores["ece"] <= 0.05, scores
    assert scores["coverage"] >= 0.95, scores


def test_classifier_holds_its_dev_figures_on_v1():
    """v1 (dev; bench/results/classify_classifier_frozen_v1.json): coverage 0.985 at precision 0.958, ECE
    0.020 at the threshold; optimistic, since training prompts were added for the wordings it missed."""
    scores = _scores(DEV_V1)
    assert scores["precision_when_decided"] >= 0.95 and scores["ece"] <= 0.05, scores
    assert scores["coverage"] >= 0.95, scores


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
