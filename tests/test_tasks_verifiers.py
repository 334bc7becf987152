"""Each verifier separates good answers from wrong ones, and format checks name the problem."""

from __future__ import annotations

import random

import pytest

import mtsft.tasks as registry
from mtsft.records import response
from mtsft.tasks import matchers


def _one(name, lang="en", seed=0, **where):
    rng = random.Random(seed)
    task = registry.get(name)
    while True:
        r = task.generate(rng, lang)
        if all(r["reference"].get(k) == v for k, v in where.items()):
            return task, r


def test_numeric_match_tolerates_units_commas_and_markers():
    assert matchers.numeric_match("so the total is 1,250 yuan.", 1250) == 1.0
    assert matchers.numeric_match("12 × 3 = 36\n答案：36元", 36) == 1.0
    assert matchers.numeric_match("#### 7", 7.0) == 1.0
    assert matchers.numeric_match("Answer: 35", 36) == 0.0


def test_math_scores_the_final_answer_not_intermediate_numbers():
    task, r = _one("math")
    value = r["reference"]["value"]
    assert task.score(f"Working... {value + 1} - 1 = {value}. Answer: {value}", r) == 1.0
    assert task.score(f"{value} first, then the answer is {value + 3}", r) == 0.0


def test_chinese_rouge_is_not_zero_for_chinese_text():
    assert matchers.rouge_l("今天天气很好", "今天天气不错") > 0.4


def test_json_field_f1_gives_partial_credit_per_field():
    assert matchers.json_field_f1('{"name": "Li Wei", "city": "Xi\'an"}', {"name": "Li Wei", "city": "Xiamen"}) == 0.5


def test_classification_label_in_a_sentence_is_right_but_a_named_violation():
    # accuracy reads the one label named (issue 14: "Label: X" is a valid answer); the format check still
    # names the words around it
    task, r = _one("classification")
    label = r["reference"]["label"]
    assert task.score(f"The label is {label}.", r) == 1.0
    assert task.format_violations(f"The label is {label}.", r) == ["extra_text_around_label"]


def test_extraction_flags_invalid_json():
    task, r = _one("extraction")
    assert task.format_violations("name: Li Wei", r) == ["invalid_json"]
    assert task.score("name: Li Wei", r) == 0.0


def test_code_flags_prose_around_code_but_still_runs_it():
    task, r = _one("code")
    chatty = "Sure! Here you go:\n" + response(r) + "\nHope this helps!"
    assert "prose_around_code" in task.format_violations(chatty, r)
    assert task.score(chatty, r) == 1.0


def test_code_wrong_solution_scores_below_one():
    task, r = _one("code")
    name = r["reference"]["entry_point"]
    assert task.score(f"```python\ndef {name}(*a, **k):\n    return None\n```", r) < 1.0
    assert task.format_violations("I would write a loop.", r) == ["missing_code"]


def test_translation_untranslated_copy_scores_zero_and_is_wrong_language():
    task, r = _one("translation", lang="zh")
    source = r["reference"]["source"]
    assert task.score(source, r) == 0.0
    assert "wrong_language" in task.format_violations(source, r)


def test_brainstorming_wrong_list_length_is_named_and_scored_lower():
    task, r = _one("brainstorming", n=4)
    three = "1. a\n2. b\n3. c"
    assert "wrong_list_length" in task.format_violations(three, r)
    assert task.score(three, r) < 1.0
    assert task.score("Just turn off the lights.", r) == 0.0


def test_markdown_where_plain_text_was_asked_is_a_violation():
    task, r = _one("summarization")
    assert "markdown_in_plain_text" in task.format_violations("## Summary\n**" + response(r) + "**", r)


def test_creative_writing_without_keywords_scores_zero():
    task, r = _one("creative_writing")
    assert task.score("A quiet evening.\nNothing much.\nThe end.\nGood night.", r) == 0.0


@pytest.mark.parametrize("name", ["open_qa", "reading_comprehension", "chitchat", "rewriting"])
def test_answer_in_the_other_language_is_a_violation(name):
    task, r = _one(name, lang="en")
    _, zh = _one(name, lang="zh")
    assert "wrong_language" in task.format_violations(response(zh), r)
