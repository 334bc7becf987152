"""List length: a list request answered with another number of items is a format problem ("List five ..."
answered with two; "列出三个…" answered with five). Named cases: valid list styles are never flagged, wrong
counts always are, and the check reaches curation's quality round and eval's format violations."""

from __future__ import annotations

import pytest

from mtsft import tasks
from mtsft.data.config import QualityConfig
from mtsft.data.quality import quality_round
from mtsft.eval.prediction_scores import score_one
from mtsft.tasks.lists import list_entries, requested_count

VIOLATION = "wrong_list_length"


def _record(prompt: str, answer: str, lang: str, reference=None) -> dict:
    """A hand-written brainstorming record: no `reference["n"]`, so the count comes from the prompt."""
    return {"id": "r", "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
            "task": "brainstorming", "lang": lang, "source": "hand", "reference": reference, "meta": {}}


def _violations(prompt: str, answer: str, lang: str) -> list[str]:
    return tasks.get("brainstorming").format_violations(answer, _record(prompt, answer, lang))


FIVE_EN = ["Walk to work", "Fix dripping taps", "Take shorter showers", "Collect rain water", "Run full loads only"]
THREE_ZH = ["早睡早起", "每天散步", "少喝含糖饮料"]

VALID = {
    "numbered 1.": ("List five ways to save water.", "\n".join(f"{i}. {x}" for i, x in enumerate(FIVE_EN, 1)), "en"),
    "numbered 1)": ("Give me 5 ways to save water.", "\n".join(f"{i}) {x}" for i, x in enumerate(FIVE_EN, 1)), "en"),
    "bulleted": ("Suggest five ways to save water.", "\n".join(f"- {x}" for x in FIVE_EN), "en"),
    "intro line, bold titles and an outro": (
        "Can you list five ways to save water?",
        "Here are five ideas:\n" + "\n".join(f"{i}. **{x}**: it helps." for i, x in enumerate(FIVE_EN, 1)) + "\n\nHope this helps!",
        "en"),
    "sub-points under each item": (
        "List five ways to save water.", "\n".join(f"{i}. {x}\n   - why: less waste" for i, x in enumerate(FIVE_EN, 1)), "en"),
    "one per line, no markers": ("Throw out five ways to save water, one per line.", "\n".join(FIVE_EN), "en"),
    "range 3-5 met": ("Give me 3-5 ways to save water.", "\n".join(f"- {x}" for x in FIVE_EN[:4]), "en"),
    "at least four met": ("List at least four ways to save water.", "\n".join(f"- {x}" for x in FIVE_EN), "en"),
    "no count asked": ("Give me some ways to save water.", "\n".join(f"- {x}" for x in FIVE_EN[:2]), "en"),
    "units are not counts": ("Give me ways to save water in 3 sentences or fewer.", "- Walk\n- Fix taps", "en"),
    "zh 一、 numbering": ("列出三个保持健康的好习惯。", "\n".join(f"{n}、{x}" for n, x in zip("一二三", THREE_ZH)), "zh"),
    "zh 1. numbering": ("给我三个保持健康的好习惯。", "\n".join(f"{i}. {x}" for i, x in enumerate(THREE_ZH, 1)), "zh"),
    "zh circled numbers": ("推荐3条保持健康的建议。", "\n".join(f"{c} {x}" for c, x in zip("①②③", THREE_ZH)), "zh"),
    "zh （一） numbering": ("想三个保持健康的办法。", "\n".join(f"（{n}）{x}" for n, x in zip("一二三", THREE_ZH)), "zh"),
    "zh inline list": ("列出三个保持健康的好习惯。", "1.早睡早起；2.每天散步；3.少喝含糖饮料", "zh"),
    "zh 三句话 is not a count": ("用三句话给我一些保持健康的建议。", "\n".join(f"- {x}" for x in THREE_ZH[:2]), "zh"),
}

WRONG = {
    "five asked, two given": ("List five ways to save water.", "1. Walk to work\n2. Fix dripping taps", "en"),
    "5 asked, three bullets": ("Give me 5 ways to save water.", "- Walk\n- Fix taps\n- Short showers", "en"),
    "ten asked, five given": ("Suggest ten ways to save water.", "\n".join(f"{i}. {x}" for i, x in enumerate(FIVE_EN, 1)), "en"),
    "three asked, five given": ("What are three ways to save water?", "\n".join(f"- {x}" for x in FIVE_EN), "en"),
    "at least four, two given": ("List at least four ways to save water.", "- Walk\n- Fix taps", "en"),
    "up to three, five given": ("Name up to three ways to save water.", "\n".join(f"- {x}" for x in FIVE_EN), "en"),
    "zh 三个 asked, five given": ("列出三个保持健康的好习惯。",
                                 "\n".join(f"{i}. {x}" for i, x in enumerate([*THREE_ZH, "多喝水", "按时吃饭"], 1)), "zh"),
    "zh 五 asked, 一、 numbering with three": ("帮我想五个保持健康的办法。",
                                          "\n".join(f"{n}、{x}" for n, x in zip("一二三", THREE_ZH)), "zh"),
    "zh 5条 asked, two given": ("快速列一个5条的健康清单，带编号。", "1. 早睡早起\n2. 每天散步", "zh"),
    "zh 两到三 asked, five given": ("推荐两到三个保持健康的习惯。",
                                  "\n".join(f"- {x}" for x in [*THREE_ZH, "多喝水", "按时吃饭"]), "zh"),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_list_is_not_flagged(name):
    prompt, answer, lang = VALID[name]
    assert VIOLATION not in _violations(prompt, answer, lang)


@pytest.mark.parametrize("name", WRONG)
def test_wrong_count_is_flagged(name):
    prompt, answer, lang = WRONG[name]
    assert VIOLATION in _violations(prompt, answer, lang)


@pytest.mark.parametrize("prompt, wanted", [
    ("List five ways", (5, 5)), ("Give me 5 ideas", (5, 5)), ("I need seven name ideas", (7, 7)),
    ("maybe 4 options", (4, 4)), ("Give me 3-5 tips", (3, 5)), ("at least 4 reasons", (4, None)),
    ("up to 6 books", (1, 6)), ("a dozen names", (12, 12)),
    ("列出三个", (3, 3)), ("起五个名字", (5, 5)), ("来六个", (6, 6)), ("给我十二个名字", (12, 12)),
    ("至少列出五条建议", (5, None)), ("推荐两到三本书", (2, 3)), ("快速列一个5条的清单", (5, 5)),
    # no count: vague, a single thing, units, sentences, poems, durations
    ("Give me a few ideas", None), ("Give me one idea", None), ("Write a 100-word story", None),
    ("Summarize in 3 sentences", None), ("How many bones are there?", None), ("列几条", None),
    ("写三首诗", None), ("用三句话概括", None), ("五分钟内能做的事，给我几个", None),
])
def test_requested_count_reads_digits_and_number_words(prompt, wanted):
    assert requested_count(prompt) == wanted


def test_reference_count_wins_over_the_prompt():
    """Registry records carry `reference["n"]`: that is the count, whatever the prompt's wording."""
    answer = "1. a idea\n2. b idea\n3. c idea"
    record = _record("List five ways to save water.", answer, "en", reference={"n": 3, "answer": answer})
    assert VIOLATION not in tasks.get("brainstorming").format_violations(answer, record)


def test_prose_is_not_a_list_and_has_no_items():
    assert list_entries("Sure! Just take shorter showers and fix the taps.") == []


def test_curation_quality_round_rejects_a_wrong_length_list():
    good = _record("List five ways to save water.", "\n".join(f"{i}. {x}" for i, x in enumerate(FIVE_EN, 1)), "en")
    bad = _record("List five ways to save water.", "1. Walk to work\n2. Fix dripping taps", "en")
    good["id"], bad["id"] = "good", "bad"
    result = quality_round([good, bad], QualityConfig(), show=False)
    assert {r["id"]: r["meta"]["rejected"]["reason"] for r in result.rejected} == {"bad": f"format:{VIOLATION}"}
    assert [r["id"] for r in result.kept] == ["good"]


def test_eval_counts_a_wrong_length_list_as_a_format_violation():
    record = _record("列出三个保持健康的好习惯。", "", "zh")
    _, violations = score_one(record, "\n".join(f"{i}. {x}" for i, x in enumerate([*THREE_ZH, "多喝水", "按时吃饭"], 1)))
    assert VIOLATION in violations
