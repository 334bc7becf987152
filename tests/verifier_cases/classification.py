"""classification: "not <label>", every label listed and a hedge score low; "Label: X" and a sentence
naming the one label score high. The label set is in each prompt, as accuracy with a label set needs."""

from verifier_cases import Case

SENT_EN = ["positive", "negative"]
TOPIC_EN = ["sports", "technology", "finance", "entertainment", "health"]
SENT_ZH = ["正面", "负面"]
TOPIC_ZH = ["体育", "科技", "财经", "娱乐", "健康"]


def _rec(lang, prompt, label, labels):
    return {"id": f"cls-{lang}-{label}", "task": "classification", "lang": lang, "source": "verifier-cases",
            "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": label}],
            "reference": {"answer": label, "label": label, "labels": labels}, "meta": {}}


NEG = _rec("en", "Classify the sentiment of this review as positive or negative.\nI bought this hotel last month: "
                 "the staff were rude, and it was noisy all night.", "negative", SENT_EN)
TECH = _rec("en", "Label this text (sports, technology, finance, entertainment or health):\n"
                  "New phone battery from Riverstone charges in 9 minutes", "technology", TOPIC_EN)
NEG_ZH = _rec("zh", "判断这条评论的情感倾向（正面、负面）：\n上个月买的这个耳机，用了两天就坏了，再也不会买了。", "负面", SENT_ZH)
TECH_ZH = _rec("zh", "给这段文字打标签（体育、科技、财经、娱乐、健康）：\n杭州开通首条无人驾驶公交线路", "科技", TOPIC_ZH)


def _g(name, record, output):
    return Case("classification", name, "gaming", record, output)


def _v(name, record, output):
    return Case("classification", name, "valid", record, output)


CASES = [
    _g("not <label>", NEG, "not negative"),
    _g("not <label> (zh)", NEG_ZH, "不是负面"),
    _g("every label listed", NEG, "positive, negative"),
    _g("every label listed (topics)", TECH, "sports, technology, finance, entertainment, health"),
    _g("every label listed (zh)", TECH_ZH, "体育、科技、财经、娱乐、健康"),
    _g("label set echoed as a question", NEG, "positive or negative?"),
    _g("hedged between two labels", TECH, "It could be technology or finance."),
    _g("hedged between two labels (zh)", NEG_ZH, "可能是正面，也可能是负面。"),
    _g("label negated in a sentence", TECH, "This is not technology news."),
    _v("Label: X", NEG, "Label: negative"),
    _v("bare label", NEG, "negative"),
    _v("capitalised with a full stop", NEG, "Negative."),
    _v("sentence naming the label", NEG, "The sentiment is negative."),
    _v("label with the other one ruled out", NEG, "negative, not positive"),
    _v("bold label", TECH, "**technology**"),
    _v("Category: X", TECH, "Category: Technology"),
    _v("Label: X (zh)", NEG_ZH, "标签：负面"),
    _v("bare label (zh)", TECH_ZH, "科技"),
    _v("sentence naming the label (zh)", TECH_ZH, "这条新闻属于科技类。"),
]
