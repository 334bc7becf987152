"""GSM8K exact match as lm-evaluation-harness computes it, and mtsft's final-answer reading on top."""

import pytest

from mtsft.tasks.metrics import gsm8k
from mtsft.tasks.metrics.numerals import words_to_digits

TARGET = ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
          "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72")


# ---- the harness's filters (gsm8k.yaml: strict-match, flexible-extract) -----------------------------

@pytest.mark.parametrize("response, extracted", [
    ("Natalia sold 24 clips in May.\nSo 48 + 24 = 72.\n#### 72", "72"),
    ("#### 1,234.", "1,234."),          # the regex keeps separators and a final dot
    ("The answer is 72", "[invalid]"),  # strict needs the '#### ' line
    ("####72", "[invalid]"),            # ... with its space
    ("#### 5\n#### 7", "5"),            # take_first
])
def test_strict_match_extraction(response, extracted):
    assert gsm8k.extract_strict(response) == extracted


@pytest.mark.parametrize("response, extracted", [
    ("The answer is $18.", "$18."),
    ("It could be 41, 43 or 42", "42"),               # group_select -1: the last match, hedge or not
    ("Answer: 42. Check: 42 - 1 = 41", "41"),
    ("I have 3 apples", "3"),                        # a single digit comes from the second group
    ("It is -5 degrees", "-5"),
    ("no number at all", "[invalid]"),
])
def test_flexible_extract_extraction(response, extracted):
    assert gsm8k.extract_flexible(response) == extracted


def test_exact_match_ignores_commas_dollars_the_answer_prefix_and_a_final_dot():
    assert gsm8k.exact_match("1,234.", "#### 1234") == 1.0
    assert gsm8k.exact_match("$18.", "blah\n#### 18") == 1.0
    assert gsm8k.strict_match("so 48 + 24 = 72\n#### 72", TARGET) == 1.0
    assert gsm8k.flexible_extract("The answer is $72.", TARGET) == 1.0
    # the harness compares strings: 72.0 is not 72, and [invalid] never matches
    assert gsm8k.flexible_extract("It is 72.0", TARGET) == 0.0
    assert gsm8k.strict_match("The answer is 72.", TARGET) == 0.0
    assert gsm8k.target_number("work...\n#### 1,000") == "1000"


# ---- mtsft's reading of the committed answer ----------------------------------------------------------

@pytest.mark.parametrize("output, value", [
    ("Answer: 42. Check: 42 - 1 = 41", 42.0),   # `=` is working, not a marker
    ("The answer is 42.", 42.0),
    ("3 * 4 = 12\n30 + 12 = 42\n#### 42", 42.0),
    ("so the total is 1,250 yuan.", 1250.0),
    ("forty-two", 42.0),
    ("答案：四十二", 42.0),
    ("**Answer:** 1/2", 0.5),
    ("一共用了3 × 4 = 12个，30 + 12 = 42。", 42.0),
])
def test_final_answer_reads_the_committed_number(output, value):
    assert gsm8k.final_answer(output) == value


@pytest.mark.parametrize("output", [
    "It could be 41, 43 or 42.",
    "可能是41、43或42。",
    "The answer is 41 or 42.",
    "Answer: 41\nAnswer: 42",
    "#### 41\n#### 42",
    "30, 3, 4, 12, 42",
    "Somewhere between 40 and 42.",
    "no number",
])
def test_final_answer_is_none_when_several_numbers_are_offered(output):
    assert gsm8k.final_answer(output) is None


def test_answer_matches_compares_numerically():
    assert gsm8k.answer_matches("The answer is 72.0", 72) == 1.0
    assert gsm8k.answer_matches("Answer: 41. Check: 41 + 1 = 42", 42) == 0.0


@pytest.mark.parametrize("text, digits", [
    ("forty-two", "42"), ("one hundred and five", "105"), ("two thousand three hundred", "2300"),
    ("四十二", "42"), ("一万二千", "12000"), ("二零二一年", "2021年"), ("两个", "2个"),
    ("行驶了160千米", "行驶了160千米"),      # 千 alone is a unit here, not a number
    ("一共有五个", "一共有5个"), ("十分简单", "十分简单"),  # 一共 / 十分 are words
])
def test_number_words_and_chinese_numerals(text, digits):
    assert words_to_digits(text) == digits
