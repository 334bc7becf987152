"""The built-in data set: deterministic, skewed, with marked defects; clean and eval variants; CLI."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.records import read_records, response
from mtsft.tasks import get
from mtsft.tasks.synth import synth_records, synth_stats

DEFECTS = {"exact_duplicate", "near_duplicate", "empty_answer", "truncated_answer", "wrong_language",
           "chatty_code", "conflict", "mislabeled", "repetition", "refusal"}


@pytest.fixture(scope="module")
def messy():
    return synth_records(1500, seed=3)


def test_same_seed_gives_identical_records():
    assert synth_records(200, seed=7) == synth_records(200, seed=7)
    assert synth_records(200, seed=7) != synth_records(200, seed=8)


def test_ids_are_unique_and_count_is_exact(messy):
    assert len(messy) == 1500
    assert len({r["id"] for r in messy}) == 1500


def test_task_counts_are_skewed_about_twelve_to_one():
    counts = synth_stats(synth_records(3000, seed=1, clean=True))["tasks"]
    ratio = max(counts.values()) / min(counts.values())
    assert 9 <= ratio <= 15


def test_every_defect_kind_is_injected_at_a_few_percent(messy):
    defects = synth_stats(messy)["defects"]
    assert DEFECTS <= set(defects)
    for kind in DEFECTS - {"chatty_code"}:
        assert defects[kind] / len(messy) <= 0.05, kind


def test_duplicates_point_at_their_original(messy):
    by_id = {r["id"]: r for r in messy}
    for r in messy:
        if r["meta"].get("defect") == "exact_duplicate":
            assert by_id[r["meta"]["duplicate_of"]]["messages"] == r["messages"]
        if r["meta"].get("defect") == "near_duplicate":
            orig = by_id[r["meta"]["duplicate_of"]]
            assert orig["messages"] != r["messages"] and response(orig) == response(r)


def test_conflicts_share_the_instruction_but_not_the_answer(messy):
    by_id = {r["id"]: r for r in messy}
    conflicts = [r for r in messy if r["meta"].get("defect") == "conflict"]
    assert conflicts
    for r in conflicts:
        other = by_id[r["meta"]["conflict_with"]]
        assert other["messages"][:-1] == r["messages"][:-1] and response(other) != response(r)


def test_mislabeled_records_keep_their_true_task(messy):
    for r in messy:
        if r["meta"].get("defect") == "mislabeled":
            assert r["task"] != r["meta"]["true_task"]


def test_wrong_language_answers_are_in_the_other_language(messy):
    from mtsft.text import detect_lang

    for r in messy:
        if r["meta"].get("defect") == "wrong_language":
            assert detect_lang(response(r)) != get(r["task"]).answer_lang(r), r


def test_clean_records_have_no_defects_and_unique_prompts():
    records = synth_records(1000, seed=2, clean=True)
    assert synth_stats(records)["defects"] == {"clean": 1000}
    prompts = Counter(tuple(m["content"] for m in r["messages"] if m["role"] == "user") for r in records)
    assert max(prompts.values()) == 1


def test_clean_records_score_one_on_their_own_reference():
    for r in synth_records(150, seed=4, clean=True):
        assert get(r["task"]).score(response(r), r) == 1.0, r["id"]


def test_eval_split_is_balanced_held_out_and_clean():
    records = synth_records(240, seed=0, eval_split=True)
    stats = synth_stats(records)
    assert set(stats["tasks"].values()) == {20}
    assert stats["held_out"] == 240 and stats["defects"] == {"clean": 240}


def test_single_language_option():
    assert synth_stats(synth_records(100, seed=0, langs=["zh"]))["langs"] == {"zh": 100}


def test_cli_writes_records_and_prints_counts(tmp_path):
    out = tmp_path / "synth.jsonl"
    result = CliRunner().invoke(app, ["data", "synth", "--n", "300", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "exact_duplicate" in result.output and "math" in result.output and "zh" in result.output
    assert len(read_records(out)) == 300


def test_cli_rejects_an_unknown_language(tmp_path):
    result = CliRunner().invoke(app, ["data", "synth", "--n", "10", "--lang", "fr", "--out", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2 and "langs" in result.output
