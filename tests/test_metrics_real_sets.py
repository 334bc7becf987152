"""The real public sets imported right (bench/real_sets.yaml): each reference answer scores 1.0 under its
task's standard metric, `lang` is the source language everywhere, tatoeba gives both directions, and the
shopping-category prompt lists the labels it is scored against. Reads ../shared/datasets in place."""

import importlib.util
from pathlib import Path

import pytest

from mtsft import tasks
from mtsft.records import prompt, response

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "datasets"
SETS = ["gsm8k_train.jsonl", "chnsenticorp_htl_3k.jsonl", "online_shopping_10cats_4k.jsonl", "msra_ner_3k.jsonl",
        "cmrc2018_trial.jsonl", "tatoeba_zh_en_3k.jsonl"]

pytestmark = pytest.mark.skipif(not all((DATA / s).exists() for s in SETS), reason="../shared/datasets not here")


@pytest.fixture(scope="module")
def real_sets():
    spec = importlib.util.spec_from_file_location("real_sets", ROOT / "bench" / "real_sets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def records(real_sets):
    return real_sets.import_real_sets(DATA, only=set(SETS)).kept


def _set(records, name):
    return [r for r in records if name in str(r.get("source"))]


@pytest.mark.parametrize("name", SETS)
def test_every_reference_scores_one_under_its_metric(records, real_sets, name):
    recs = _set(records, name)[::7]  # every 7th record: `python bench/real_sets.py --score` runs them all
    assert recs
    table = real_sets.score_references(recs)
    assert [row["mean"] for row in table.values()] == [1.0] and [row["below_1"] for row in table.values()] == [0]
    assert next(iter(table.values()))["metric"] != "verifier"  # each names its standard metric


def test_tatoeba_maps_both_directions_with_source_and_target_languages(records):
    recs = _set(records, "tatoeba_zh_en_3k.jsonl")
    by_lang = {lang: [r for r in recs if r["lang"] == lang] for lang in ("en", "zh")}
    assert len(by_lang["en"]) == len(by_lang["zh"]) == 3000
    task = tasks.get("translation")
    for lang, target in (("en", "zh"), ("zh", "en")):
        for r in by_lang[lang][:200]:
            ref = r["reference"]
            assert ref["answer_lang"] == target and ref["source_lang"] == lang
            assert ref["source"] in prompt(r) and response(r) == ref["answer"]
            # the instruction alone names the same target, for data imported without answer_lang
            assert task.answer_lang({**r, "reference": {k: v for k, v in ref.items() if k != "answer_lang"}}) == target


def test_shopping_prompt_lists_every_label_it_is_scored_against(records, real_sets):
    labels = real_sets.load_recipes()["online_shopping_10cats_4k.jsonl"]["labels"]
    recs = _set(records, "online_shopping_10cats_4k.jsonl")
    assert {r["reference"]["label"] for r in recs} == set(labels)
    for r in recs[:50]:
        assert r["reference"]["labels"] == labels
        assert all(label in prompt(r) for label in labels)


def test_reading_comprehension_references_carry_their_question(records):
    for r in _set(records, "cmrc2018_trial.jsonl")[:50]:
        assert r["reference"]["question"] and r["reference"]["question"] in prompt(r)
