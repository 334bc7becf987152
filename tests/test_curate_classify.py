"""The task classifier (fake registry): labels, confidence, method, uncertain, cache, label checks."""

from __future__ import annotations

from curate_fakes import fake_registry, generate  # noqa: F401  (fixture)

from mtsft.data import classify
from mtsft.data.classify import classify_round, instruction_view, load_classifier
from mtsft.data.config import ClassifyConfig

CFG = ClassifyConfig(train_per_task_lang=40)


def _unlabeled(recs):
    for r in recs:
        r["task"] = None
    return recs


def test_unlabeled_records_get_the_task_they_were_generated_for(fake_registry):
    recs = generate({"sentiment": 10, "coding": 10, "ideas": 10}, seed=7)
    truth = [r["task"] for r in recs]
    res = classify_round(_unlabeled(recs), CFG, show=False)
    assert [r["task"] for r in res.kept] == truth


def test_each_decision_carries_confidence_and_method(fake_registry):
    res = classify_round(_unlabeled(generate({"coding": 3})), CFG, show=False)
    meta = res.kept[0]["meta"]["curate"]
    assert 0 < meta["task_confidence"] <= 1 and meta["task_method"] in ("model", "signals+model")


def test_below_threshold_is_uncertain_and_goes_to_review(fake_registry):
    rec = _unlabeled(generate({"ideas": 1}))[0]
    res = classify_round([rec], CFG.model_copy(update={"threshold": 1.01}), show=False)
    assert not res.kept and res.review[0]["task"] == "uncertain"
    assert res.rejected[0]["meta"]["rejected"]["reason"] == "uncertain_task"


def test_trusted_labels_are_kept_with_the_classifiers_opinion_beside_them(fake_registry):
    rec = generate({"coding": 1})[0]
    rec["task"] = "ideas"
    kept = classify_round([rec], CFG, show=False).kept[0]
    assert kept["task"] == "ideas" and kept["meta"]["curate"]["predicted_task"] == "coding"


def test_trained_classifier_is_cached_and_reused(fake_registry, tmp_path):
    load_classifier(40)
    files = list((tmp_path / "cache" / "classifier").glob("*.joblib"))
    classify.load_classifier.cache_clear()
    load_classifier(40)
    assert len(files) == 1 and list((tmp_path / "cache" / "classifier").glob("*.joblib")) == files


def test_instruction_view_keeps_head_and_tail_and_masks_digits():
    view = instruction_view("Q" * 1000 + "ask 42?")
    assert view.endswith("ask 00?") and len(view) < 500
