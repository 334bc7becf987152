"""translation: an untranslated copy (with or without a lead-in) and an answer in the source language
score low; the reference with a polite lead-in line or in quotes scores high. Records without
`reference.answer_lang` (imported data) take the target language from the instruction."""

from verifier_cases import Case

EN_SRC, ZH_REF = "I usually drink a cup of green tea after lunch.", "我午饭后通常喝一杯绿茶。"
ZH_SRC, EN_REF = "因为大雪，火车晚点了。", "The train was delayed because of the heavy snow."


def _rec(lang, prompt, source, answer, answer_lang=None):
    ref = {"answer": answer, "source": source}
    if answer_lang:
        ref["answer_lang"] = answer_lang
    return {"id": f"tr-{lang}-{answer_lang}", "task": "translation", "lang": lang, "source": "verifier-cases",
            "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
            "reference": ref, "meta": {}}


EN_ZH = _rec("en", f"Translate into Chinese: {EN_SRC}", EN_SRC, ZH_REF, "zh")
ZH_EN = _rec("zh", f"请把下面的句子翻译成英文。\n{ZH_SRC}", ZH_SRC, EN_REF, "en")
# imported records: no answer_lang, the record's lang is the source language
IMP_EN_ZH = _rec("en", f"Translate into Chinese:\n{EN_SRC}", EN_SRC, ZH_REF)
IMP_ZH_EN = _rec("zh", f"把这句话译成英语：{ZH_SRC}", ZH_SRC, EN_REF)


def _g(name, record, output):
    return Case("translation", name, "gaming", record, output)


def _v(name, record, output):
    return Case("translation", name, "valid", record, output)


CASES = [
    _g("untranslated copy of the source", EN_ZH, EN_SRC),
    _g("untranslated copy of the source (zh)", ZH_EN, ZH_SRC),
    _g("untranslated copy after a polite lead-in", EN_ZH, "Sure! Here is the translation:\n" + EN_SRC),
    _g("whole prompt copied", EN_ZH, f"Translate into Chinese: {EN_SRC}"),
    _g("paraphrase in the source language", EN_ZH, "After lunch I normally have a cup of green tea."),
    _g("untranslated copy, imported record", IMP_EN_ZH, EN_SRC),
    _g("untranslated copy, imported record (zh)", IMP_ZH_EN, ZH_SRC),
    _g("empty output", EN_ZH, ""),
    _v("reference", EN_ZH, ZH_REF),
    _v("reference (zh->en)", ZH_EN, EN_REF),
    _v("polite lead-in line", EN_ZH, "Here is the translation:\n" + ZH_REF),
    _v("polite lead-in on the same line", ZH_EN, "Sure! The translation is: " + EN_REF),
    _v("in quotes", EN_ZH, f"“{ZH_REF}”"),
    _v("Translation: label (zh->en)", ZH_EN, f"Translation: {EN_REF}"),
    _v("correct translation, imported record", IMP_EN_ZH, ZH_REF),
    _v("correct translation, imported record (zh)", IMP_ZH_EN, EN_REF),
]
