"""math: hedged numbers and a trailing `=` must not pass for an answer; number words and a check line must.

Records are written by hand (the content tables change under the held-out split); the answer is 42 (and
1200 for the thousands separator).
"""

from verifier_cases import Case

PROBLEM_EN = "Sam has 30 apples and buys 3 bags with 4 apples in each. How many apples does Sam have now?"
PROBLEM_ZH = "山姆有30个苹果，又买了3袋，每袋4个。山姆现在一共有多少个苹果？"


def _rec(lang, prompt, value, answer):
    return {"id": f"math-{lang}-{value}", "task": "math", "lang": lang, "source": "verifier-cases",
            "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
            "reference": {"answer": answer, "value": value}, "meta": {}}


EN = _rec("en", PROBLEM_EN, 42, "The bags hold 3 × 4 = 12 apples. 30 + 12 = 42.\nAnswer: 42")
ZH = _rec("zh", PROBLEM_ZH, 42, "买来的苹果有3 × 4 = 12个，30 + 12 = 42。\n答案：42")
BIG = _rec("en", "A school buys 40 boxes of 30 pencils. How many pencils is that?", 1200,
           "40 × 30 = 1200.\nAnswer: 1200")


def _g(name, record, output):
    return Case("math", name, "gaming", record, output)


def _v(name, record, output):
    return Case("math", name, "valid", record, output)


CASES = [
    _g("hedged numbers", EN, "It could be 41, 43 or 42."),
    _g("hedged numbers (zh)", ZH, "可能是41、43或42。"),
    _g("hedged after an answer marker", EN, "The answer is 41 or 42."),
    _g("= as answer marker", EN, "Answer: 41. Check: 41 + 1 = 42"),
    _g("= as answer marker (zh)", ZH, "答案：41。验算：41 + 1 = 42"),
    _g("every number listed", EN, "30, 3, 4, 12, 42"),
    _g("answer markers repeated with different numbers", EN, "Answer: 41\nAnswer: 43\nAnswer: 42"),
    _g("several #### lines", EN, "#### 41\n#### 43\n#### 42"),
    _g("problem echoed", EN, PROBLEM_EN),
    _g("range instead of an answer", EN, "Somewhere between 40 and 42."),
    _v("check line after the answer", EN, "Answer: 42. Check: 42 - 1 = 41"),
    _v("check line after the answer (zh)", ZH, "答案：42。验算：42 - 12 = 30"),
    _v("number words", EN, "forty-two"),
    _v("number words in a sentence", EN, "Sam has forty-two apples now."),
    _v("Chinese numerals", ZH, "四十二"),
    _v("Chinese numerals in a sentence", ZH, "山姆现在一共有四十二个苹果。"),
    _v("The answer is X.", EN, "The answer is 42."),
    _v("worked solution ending in the result", EN, "The bags hold 3 × 4 = 12 apples, so 30 + 12 = 42."),
    _v("GSM8K #### line", EN, "3 * 4 = 12\n30 + 12 = 42\n#### 42"),
    _v("answer with a unit", ZH, "一共用了3 × 4 = 12个，30 + 12 = 42。\n答案：42个"),
    _v("bold answer marker", EN, "30 + 3 × 4 = 42\n\n**Answer:** 42 apples"),
    _v("thousands separator", BIG, "The answer is 1,200."),
]
