"""SQuAD v1.1 and CMRC 2018 metrics against their official scripts' behaviour, and the extraction that
feeds them (lead-ins, question echo, hedges)."""

import pytest

from mtsft.tasks import matchers
from mtsft.tasks.metrics import cmrc2018, squad
from mtsft.tasks.metrics.answers import answer_span, copies_passage, is_hedge, strip_lead_in


# ---- SQuAD v1.1 (evaluate-v1.1.py) --------------------------------------------------------------------

def test_squad_normalisation_is_the_official_one():
    assert squad.normalize_answer("The  Cat!") == "cat"
    assert squad.normalize_answer("an apple, a pear") == "apple pear"
    # punctuation is deleted, not replaced by a space (an official quirk, kept)
    assert squad.normalize_answer("Saint-Exupéry") == "saintexupéry"


def test_squad_f1_and_em_known_pairs():
    assert squad.f1_score("the cat sat", "a cat sat down") == pytest.approx(0.8)
    assert squad.f1_score("Broncos", "Denver Broncos") == pytest.approx(2 / 3)
    assert squad.f1_score("Saint Exupery", "Saint-Exupery") == 0.0
    assert squad.f1_score("", "Denver") == 0.0
    assert squad.exact_match_score("Denver Broncos.", "denver broncos") == 1.0
    assert squad.f1("Broncos", ["Denver Broncos", "Broncos"]) == 1.0  # max over the ground truths
    assert squad.exact_match("The Broncos", ["Denver Broncos", "broncos"]) == 1.0


# ---- CMRC 2018 (cmrc2018_evaluate.py v5) ------------------------------------------------------------

def test_cmrc_segmentation_splits_han_characters_and_tokenises_the_rest():
    assert cmrc2018.mixed_segmentation("iPhone 6的价格，很高", rm_punc=True) == ["iphone", "6", "的", "价", "格", "很", "高"]
    assert cmrc2018.mixed_segmentation("北京。") == ["北", "京", "。"]


def test_cmrc_f1_is_over_the_longest_common_substring_not_subsequence():
    _, n = cmrc2018.find_lcs(list("甲乙X丙丁"), list("甲乙丙丁"))
    assert n == 2
    assert cmrc2018.calc_f1_score(["甲乙丙丁"], "甲乙X丙丁") == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    assert cmrc2018.calc_f1_score(["天安门广场"], "北京天安门") == pytest.approx(0.6)
    assert cmrc2018.calc_f1_score(["巴黎", "法国巴黎"], "巴黎") == 1.0


def test_cmrc_em_drops_only_its_listed_punctuation():
    assert cmrc2018.calc_em_score(["《红楼梦》"], "红楼梦") == 1.0
    assert cmrc2018.calc_em_score(["ABC"], "abc") == 1.0
    assert cmrc2018.calc_em_score(["北京"], "北京.") == 0.0      # "." is not in the official list
    assert cmrc2018.remove_punctuation("好……") == "好……"        # "……" is one two-character item: never matched


# ---- the extraction around them -----------------------------------------------------------------------

def test_lead_ins_are_stripped():
    assert strip_lead_in("The answer is Paris.") == "Paris."
    assert strip_lead_in("Sure! The answer is: Paris") == "Paris"
    assert strip_lead_in("答案是巴黎。") == "巴黎。"
    assert strip_lead_in("Label: negative") == "negative"


def test_question_echo_is_removed_but_not_the_answer():
    q = "What is the largest freshwater lake in China?"
    assert answer_span("The largest freshwater lake in China is Poyang Lake.", q, ["Poyang Lake"]) == "Poyang Lake."
    assert answer_span("The largest freshwater lake in China is Taihu.", q, ["Poyang Lake"]) == "Taihu."
    assert answer_span("墨西哥的首都是墨西哥城。", "墨西哥的首都是哪座城市？", ["墨西哥城"]) == "墨西哥城。"
    assert answer_span("What is the largest freshwater lake in China?", q, ["Poyang Lake"]) == ""


def test_hedges_and_lists_are_no_answer_unless_the_reference_has_the_separator():
    assert is_hedge("Paris or Lyon", "capital of France?", ["Paris"])
    assert is_hedge("巴黎、里昂、马赛", "法国的首都？", ["巴黎"])
    assert not is_hedge("salt and pepper", "What is on the table?", ["salt and pepper"])
    assert not is_hedge("体育、生命教育、宗教", "校本课程有什么？", ["体育、生命教育、宗教"])


def test_answer_f1_uses_squad_for_english_and_cmrc_for_chinese():
    # SQuAD counts words, CMRC characters: the same partial answer scores differently
    assert matchers.answer_f1("Denver", ["Denver Broncos"], question="Who won?") == pytest.approx(2 / 3)
    assert matchers.answer_f1("丹佛", ["丹佛野马"], question="谁赢了？") == pytest.approx(2 / 3)
    # no containment floor: the right entity inside a list, or a wrong number with the right unit, is 0
    assert matchers.answer_f1("Paris, Lyon, Nice, Rome", ["Paris"], question="Capital of France?") == 0.0
    assert matchers.answer_f1("有20名员工", ["35名"], question="有多少名员工？") == 0.0


def test_a_copied_passage_is_not_an_answer_but_a_long_reference_span_is():
    passage = "Li Wei opened a bakery in 2009. It employs 35 people. It is famous in Hangzhou."
    assert copies_passage(passage, passage, ["Li Wei"])
    assert not copies_passage("It employs 35 people.", passage, ["35"])
    two = "Li Wei opened a bakery in 2009. It employs 35 people."
    assert not copies_passage(two, passage, [two])
