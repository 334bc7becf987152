"""Translation: sacrebleu chrF/BLEU (known corpus figures), the answer language read from the
instruction when a record does not say it, and the quality round judging imported translations by it."""

import pytest

from mtsft import tasks
from mtsft.data.config import QualityConfig
from mtsft.data.quality import expected_language, quality_round
from mtsft.records import make_record
from mtsft.tasks import matchers
from mtsft.tasks.metrics import mt

# sacrebleu's README example (two reference streams): BLEU = 48.53, chrF2 = 59.73
SYS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
REFS = [["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
        ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]]


def test_corpus_bleu_and_chrf_match_sacrebleus_published_example():
    assert mt.corpus_bleu(SYS, REFS) == pytest.approx(0.4853, abs=5e-5)
    assert mt.corpus_chrf(SYS, REFS) == pytest.approx(0.5973, abs=5e-5)


def test_sentence_bleu_segments_chinese_targets():
    hyp, ref = "我午饭后喝绿茶。", "我午饭后通常喝一杯绿茶。"
    assert mt.sentence_bleu(hyp, ref, "en") == 0.0       # 13a sees one unsplit "word" on each side
    assert 0.2 < mt.sentence_bleu(hyp, ref, "zh") < 1.0  # the zh tokenizer splits characters
    assert mt.sentence_chrf(ref, ref) == 1.0
    assert "tok:zh" in mt.signature("zh")["bleu"]


@pytest.mark.parametrize("instruction, lang", [
    ("Translate into Chinese: I like tea.", "zh"),
    ("English to Chinese: hi", "zh"),
    ("Render this in Simplified Chinese:\nhello", "zh"),
    ("Translate the following Chinese text to English: 你好", "en"),
    ("请把下面的句子翻译成英文。\n我喜欢茶。", "en"),
    ("这句话用英语怎么说？“我喜欢茶。”", "en"),
    ("中译英：我喜欢茶。", "en"),
    ("英译中：I like tea.", "zh"),
    ("Say hello", None),
])
def test_target_language_is_read_from_the_instruction(instruction, lang):
    assert mt.target_lang_from_instruction(instruction) == lang


def _rec(lang, prompt, output, **ref):
    return make_record([{"role": "user", "content": prompt}, {"role": "assistant", "content": output}],
                       source="hand", task="translation", lang=lang, reference=ref or None)


EN_SRC, ZH = "I usually drink a cup of green tea after lunch.", "我午饭后通常喝一杯绿茶。"
ZH_SRC, EN = "因为大雪，火车晚点了。", "The train was delayed because of the heavy snow."


def test_answer_language_without_a_reference_says_comes_from_the_instruction_then_the_source():
    task = tasks.get("translation")
    assert task.answer_lang(_rec("en", f"Translate into Chinese:\n{EN_SRC}", ZH)) == "zh"
    # an English instruction around a Chinese source: the instruction decides, not the record's lang
    assert task.answer_lang(_rec("zh", f"Translate into English: {ZH_SRC}", EN)) == "en"
    # no instruction naming a language: the other language than the source (`lang` is the source's)
    assert task.answer_lang(_rec("zh", f"{ZH_SRC}", EN)) == "en"
    # the reference wins when it says
    assert task.answer_lang(_rec("en", "Translate into Chinese: x", "y", answer="y", answer_lang="en")) == "en"
    assert expected_language(_rec("en", f"Translate into Chinese:\n{EN_SRC}", ZH), task) == "zh"


def test_quality_keeps_correct_imported_translations_and_rejects_untranslated_ones():
    records = [
        _rec("en", f"Translate into Chinese:\n{EN_SRC}", ZH),            # kept
        _rec("en", f"Translate into Chinese:\n{EN_SRC}", EN_SRC),        # untranslated
        _rec("zh", f"请把这句话翻译成英文：{ZH_SRC}", EN),                  # kept
        _rec("zh", f"请把这句话翻译成英文：{ZH_SRC}", ZH_SRC),              # untranslated
        _rec("zh", f"Translate into English: {ZH_SRC}", EN),             # kept: instruction in English
    ]
    result = quality_round(records, QualityConfig(), show=False)
    assert [r["messages"][-1]["content"] for r in result.kept] == [ZH, EN, EN]
    assert [r["meta"]["rejected"]["reason"] for r in result.rejected] == ["wrong_language", "wrong_language"]


def test_translation_score_strips_a_polite_lead_in_but_not_a_copy():
    record = _rec("en", f"Translate into Chinese: {EN_SRC}", ZH, answer=ZH, source=EN_SRC)
    assert matchers.translation_score(f"Here is the translation:\n{ZH}", record) == 1.0
    assert matchers.translation_score(f"“{ZH}”", record) == 1.0
    assert matchers.translation_score(f"Sure! Here is the translation:\n{EN_SRC}", record) == 0.0
    assert matchers.translation_score("After lunch I normally have green tea.", record) == 0.0


def test_corpus_scores_of_a_set():
    task = tasks.get("translation")
    records = [_rec("en", f"Translate into Chinese: {EN_SRC}", ZH, answer=ZH, source=EN_SRC, answer_lang="zh")] * 3
    scores = task.corpus_scores([ZH, ZH, "我喝茶。"], records)
    assert set(scores) == {"chrf", "bleu"} and 0 < scores["chrf"] < 1 and 0 < scores["bleu"] < 1
    assert task.corpus_scores([ZH] * 3, records) == {"chrf": pytest.approx(1.0), "bleu": pytest.approx(1.0)}
