"""Entity micro-F1 over (type, span) and label accuracy against the label set in the prompt."""

import pytest

from mtsft.tasks import matchers
from mtsft.tasks.metrics import ner
from mtsft.tasks.metrics.accuracy import accuracy, named_label

GOLD = {"PER": ["李伟"], "LOC": ["上海"], "ORG": ["北京大学"]}


def test_entity_micro_f1_known_pairs():
    # 1 of 2 predicted entities right, 1 of 3 gold found: P = 1/2, R = 1/3 -> F1 = 0.4
    assert ner.micro_f1({"PER": ["李伟"], "LOC": ["北京"], "ORG": []}, GOLD) == pytest.approx(0.4)
    assert ner.micro_f1({"ORG": ["北京大学"], "LOC": ["上海"], "PER": ["李伟"]}, GOLD) == 1.0
    # the type matters: the right span under the wrong type is a miss and a false alarm
    assert ner.micro_f1({"PER": ["李伟"], "LOC": ["北京大学"], "ORG": ["上海"]}, GOLD) == pytest.approx(1 / 3)
    assert ner.micro_f1({"PER": [], "LOC": [], "ORG": []}, {"PER": [], "LOC": [], "ORG": []}) == 1.0
    assert ner.micro_f1(None, GOLD) == 0.0


def test_corpus_micro_f1_sums_counts_before_dividing():
    preds = [{"PER": ["李伟"]}, {"PER": []}]
    golds = [{"PER": ["李伟"]}, {"PER": ["张敏"], "LOC": ["上海"], "ORG": ["北京大学"]}]
    # micro: tp 1, predicted 1, gold 4 -> P 1, R 0.25 -> 0.4 (the mean of per-record F1 would be 0.5)
    assert ner.corpus_micro_f1(preds, golds) == pytest.approx(0.4)


def test_field_extraction_is_the_same_metric_and_a_stuffed_field_earns_nothing():
    ref = {"name": "Tom Baker", "city": "Kunming"}
    assert matchers.json_field_f1('{"name": " Tom  Baker ", "city": "kunming"}', ref) == 1.0
    assert matchers.json_field_f1('{"name": "Tom Baker", "city": "Xiamen"}', ref) == 0.5
    assert matchers.json_field_f1('{"name": ["Tom Baker", "Kunming"], "city": ["Tom Baker", "Kunming"]}', ref) == 0.0
    assert matchers.json_field_f1('{"name": "", "city": ""}', ref) == 0.0


LABELS = ["positive", "negative"]


@pytest.mark.parametrize("output, label", [
    ("negative", "negative"), ("Label: negative", "negative"), ("The sentiment is Negative.", "negative"),
    ("negative, not positive", "negative"), ("**negative**", "negative"),
    ("not negative", None), ("positive, negative", None), ("positive or negative?", None),
    ("It isn't negative at all", None), ("", None),
])
def test_named_label(output, label):
    assert named_label(output, LABELS) == label


def test_named_label_in_chinese_and_with_labels_inside_labels():
    assert named_label("标签：负面", ["正面", "负面"]) == "负面"
    assert named_label("不是负面", ["正面", "负面"]) is None
    assert named_label("非常正面", ["正面", "负面"]) == "正面"   # 非常 = "very", not a negation
    assert named_label("这是平板电脑", ["平板", "平板电脑"]) == "平板电脑"  # the longer label, not both


def test_accuracy_without_a_label_set_still_needs_the_label_unnegated():
    assert accuracy("Label: sports", "sports") == 1.0
    assert accuracy("not sports", "sports") == 0.0
    assert accuracy("finance", "sports", ["sports", "finance"]) == 0.0
