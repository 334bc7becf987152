"""The built-in task registry: 12 tasks, generators, verifiers on their own references, templates."""

from __future__ import annotations

import random

import pytest

import mtsft.tasks as registry
from mtsft.records import response, validate_messages
from mtsft.tasks.builtin._common import HELD_OUT

BUILTIN = ["open_qa", "reading_comprehension", "translation", "code", "math", "classification", "extraction",
           "summarization", "rewriting", "brainstorming", "creative_writing", "chitchat"]


def _records(task, lang, n=15, held_out=False, seed=0):
    rng = random.Random(f"{seed}-{task.name}-{lang}-{held_out}")
    return [task.generate(rng, lang, held_out=held_out) for _ in range(n)]


def test_registry_has_the_twelve_builtin_tasks():
    assert set(BUILTIN) <= set(registry.names())


def test_unknown_task_error_names_the_known_ones():
    with pytest.raises(KeyError, match="open_qa"):
        registry.get("no_such_task")


@pytest.mark.parametrize("name", BUILTIN)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reference_answer_scores_one_and_has_no_format_violation(name, lang):
    task = registry.get(name)
    for record in _records(task, lang, held_out=False) + _records(task, lang, n=5, held_out=True):
        assert task.score(response(record), record) == 1.0, record
        assert task.format_violations(response(record), record) == [], record


@pytest.mark.parametrize("name", BUILTIN)
def test_generated_records_follow_the_schema(name):
    task = registry.get(name)
    for lang in ("zh", "en"):
        for record in _records(task, lang, n=5):
            validate_messages(record["messages"])
            assert record["task"] == name and record["lang"] == lang and record["reference"]
            assert record["meta"]["template"].startswith(f"{lang}-") and record["meta"]["held_out"] is False


@pytest.mark.parametrize("name", BUILTIN)
def test_each_task_has_eight_templates_per_language_and_held_out_ones_stay_out_of_training(name):
    task = registry.get(name)
    for lang in ("zh", "en"):
        assert len(task.templates[lang]) >= 8
        every = {f"{lang}-{i}" for i in range(len(task.templates[lang]))}
        held = set(task.held_out_template_ids(lang))
        train_ids = {r["meta"]["template"] for r in _records(task, lang, n=60)}
        eval_ids = {r["meta"]["template"] for r in _records(task, lang, n=20, held_out=True)}
        # the eval split draws exactly the HELD_OUT held-out templates, training draws every other one
        assert eval_ids == held and len(eval_ids) == HELD_OUT and held < every
        assert train_ids == every - held


def test_same_seed_gives_the_same_record():
    task = registry.get("math")
    assert task.generate(random.Random(5), "zh") == task.generate(random.Random(5), "zh")


@pytest.mark.parametrize("name", ["chitchat", "rewriting", "translation"])
def test_multi_turn_tasks_emit_follow_up_turns(name):
    task = registry.get(name)
    assert task.multi_turn
    turns = [sum(m["role"] == "user" for m in r["messages"]) for r in _records(task, "en", n=40)]
    assert max(turns) >= 2


@pytest.mark.parametrize("name", ["translation", "summarization", "classification"])
def test_hard_negatives_are_generated_and_marked(name):
    task = registry.get(name)
    records = _records(task, "en", n=80) + _records(task, "zh", n=80)
    assert any(r["meta"].get("hard_negative") for r in records)


def test_translation_hard_negative_is_a_question_to_translate_not_answer():
    task = registry.get("translation")
    records = [r for r in _records(task, "en", n=150) if r["meta"].get("hard_negative")]
    question = next(r for r in records if r["reference"]["source"].endswith("?"))
    assert task.score(response(question), question) == 1.0
    assert task.answer_lang(question) == "zh"


def test_every_task_has_family_description_and_signals():
    for name in BUILTIN:
        task = registry.get(name)
        assert task.family in {"knowledge", "transform", "reasoning", "structured", "open"}
        assert task.description["zh"] and task.description["en"]
        assert task.signals["zh"] and task.signals["en"]
