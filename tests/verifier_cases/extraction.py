"""extraction: field micro-F1 over (field, value); junk in the right keys scores low, a fenced or
reordered object scores high. The NER record (MSRA-style entity lists) is scored by entity micro-F1."""

import json

from verifier_cases import Case

SENT_EN = "On March 5, 2021, Tom Baker joined Riverstone Bank at its office in Kunming."
OBJ_EN = {"name": "Tom Baker", "organization": "Riverstone Bank", "city": "Kunming", "date": "2021-03-05"}
SENT_ZH = "2021年3月5日，汤姆·贝克在昆明加入了河石银行。"
OBJ_ZH = {"name": "汤姆·贝克", "organization": "河石银行", "city": "昆明", "date": "2021-03-05"}
SENT_NER = "李伟代表北京大学在上海参加了会议。"
ENT_NER = {"PER": ["李伟"], "LOC": ["上海"], "ORG": ["北京大学"]}


def _rec(lang, prompt, obj, fields):
    answer = json.dumps(obj, ensure_ascii=False)
    return {"id": f"ext-{lang}-{len(fields)}", "task": "extraction", "lang": lang, "source": "verifier-cases",
            "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
            "reference": {"answer": answer, "json": obj, "fields": fields}, "meta": {}}


EN = _rec("en", f"Sentence: {SENT_EN}\nOutput JSON (name, organization, city, date):", OBJ_EN, list(OBJ_EN))
ZH = _rec("zh", f"句子：{SENT_ZH}\n输出JSON（name、organization、city、date）：", OBJ_ZH, list(OBJ_ZH))
NER = _rec("zh", f"从下面的句子中抽取人名(PER)、地名(LOC)和机构名(ORG)，以JSON输出，键为PER、LOC、ORG：\n{SENT_NER}",
           ENT_NER, ["PER", "LOC", "ORG"])


def _dump(obj, **kw):
    return json.dumps(obj, ensure_ascii=False, **kw)


def _g(name, record, output):
    return Case("extraction", name, "gaming", record, output)


def _v(name, record, output):
    return Case("extraction", name, "valid", record, output)


CASES = [
    _g("sentence as every value", EN, _dump({k: SENT_EN for k in OBJ_EN})),
    _g("schema echoed as values", EN, _dump({k: k for k in OBJ_EN})),
    _g("empty values", EN, _dump({k: "" for k in OBJ_EN})),
    _g("placeholder values", ZH, _dump({k: "..." for k in OBJ_ZH})),
    _g("every entity stuffed into every field", EN, _dump({k: list(OBJ_EN.values()) for k in OBJ_EN})),
    _g("the fields in prose, no JSON", EN, "name: Tom Baker, organization: Riverstone Bank, city: Kunming"),
    _g("sentence as one entity of each type (NER)", NER, _dump({k: [SENT_NER] for k in ENT_NER})),
    _g("no entities (NER)", NER, _dump({"PER": [], "LOC": [], "ORG": []})),
    _v("bare JSON", EN, _dump(OBJ_EN)),
    _v("fenced JSON after a lead-in line", EN, "Here is the JSON:\n```json\n" + _dump(OBJ_EN, indent=2) + "\n```"),
    _v("keys reordered", EN, _dump(dict(reversed(list(OBJ_EN.items()))))),
    _v("bare JSON (zh)", ZH, _dump(OBJ_ZH)),
    _v("lead-in and trailing note (zh)", ZH, "结果如下：" + _dump(OBJ_ZH) + "\n以上。"),
    _v("entity lists reordered (NER)", NER, _dump({"ORG": ["北京大学"], "LOC": ["上海"], "PER": ["李伟"]})),
]
