"""The task classifier on hand-written prompts phrased unlike any template (bench/data/*.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtsft.data.classify import load_classifier

DATA = Path(__file__).resolve().parents[1] / "bench" / "data"


@pytest.mark.parametrize("name", ["classify_heldout.jsonl", "classify_fresh.jsonl"])
def test_classifier_labels_at_least_85_percent_of_unseen_prompts(name):
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert {r["lang"] for r in rows} == {"zh", "en"} and len({r["task"] for r in rows}) == 12
    predicted, *_ = load_classifier().predict([r["prompt"] for r in rows])
    accuracy = sum(p == r["task"] for p, r in zip(predicted, rows)) / len(rows)
    assert accuracy >= 0.85, f"{name}: {accuracy:.1%}"
