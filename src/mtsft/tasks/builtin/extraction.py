"""extraction: pull named fields out of a sentence and answer with a JSON object."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from mtsft.tasks import formats, matchers
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import ExtractionReference
from mtsft.tasks.crossing import Crossed, CrossingDraw

FIELD_NAMES = {"name": ("the person", "人名"), "organization": ("the organization", "机构"),
               "city": ("the city", "城市"), "date": ("the date (YYYY-MM-DD)", "日期（YYYY-MM-DD）")}

TEMPLATES = {
    "en": ["Extract {fields} from the sentence and return JSON with the keys {keys}.\n{t}",
           "Return a JSON object with {keys} for this text: {t}", "Sentence: {t}\nOutput JSON ({keys}):",
           "Pull out {fields}. Answer with JSON only, keys {keys}.\n\"{t}\"",
           "Fill this JSON from the text, keys {keys}: {t}", "Information extraction. Keys: {keys}.\nText: {t}",
           "Parse the following into a JSON object ({keys}), no extra text.\n{t}", "What are {fields} in: {t}\nReply as JSON with keys {keys}.",
           "I need structured data for my database (JSON, keys {keys}) from: {t}", "Turn this sentence into a record with fields {keys}, in JSON: {t}"],
    "zh": ["从句子中抽取{fields}，以JSON返回，键为{keys}。\n{t}", "为这段文字返回一个包含{keys}的JSON对象：{t}",
           "句子：{t}\n输出JSON（{keys}）：", "抽取{fields}，只用JSON回答，键为{keys}。\n“{t}”", "根据文本填写这个JSON，键为{keys}：{t}",
           "信息抽取。键：{keys}。\n文本：{t}", "把下面的内容解析成JSON对象（{keys}），不要多余文字。\n{t}",
           "这句话里的{fields}分别是什么：{t}\n请用JSON回答，键为{keys}。",
           "我要把这条信息存进数据库（JSON，键为{keys}）：{t}", "把这句话变成一条记录，字段为{keys}，用JSON表示：{t}"],
}


# sentence frames over {when} {person} {org} {city}, (en, zh); partition.py holds some out of training
FRAMES = [
    ("On {when}, {person} joined {org} at its office in {city}.", "{when}，{person}在{city}加入了{org}。"),
    ("{org} announced on {when} that {person} will lead its new branch in {city}.", "{org}于{when}宣布，{person}将负责公司在{city}的新分部。"),
    ("{person} signed a contract with {org} in {city} on {when}.", "{when}，{person}在{city}与{org}签订了合同。"),
    ("{person} gave a talk for {org} at a conference in {city} on {when}.", "{when}，{person}代表{org}在{city}的一场会议上发表了演讲。"),
    ("On {when}, {org} opened a store in {city}; the first customer was {person}.", "{when}，{org}在{city}开了一家门店，第一位顾客是{person}。"),
    ("{person} left {org} on {when} and moved back to {city}.", "{when}，{person}从{org}离职，搬回了{city}。"),
    ("The {city} office of {org} hired {person} as its new manager on {when}.", "{when}，{org}{city}办公室聘请{person}担任新经理。"),
    ("{person} received an award from {org} in {city} on {when}.", "{when}，{person}在{city}获得了{org}颁发的奖项。"),
    ("On {when}, {person} visited the {org} factory in {city}.", "{when}，{person}参观了{org}位于{city}的工厂。"),
    ("{org} and {person} launched a charity project in {city} on {when}.", "{when}，{org}与{person}在{city}启动了一个公益项目。"),
    ("A letter dated {when} from {person} thanked {org} for its support in {city}.", "{person}在{when}写信感谢{org}在{city}给予的支持。"),
    ("{person} was interviewed by {org} in {city} on {when}.", "{when}，{person}在{city}接受了{org}的采访。"),
    ("On {when}, {person} became the first employee of {org} in {city}.", "{when}，{person}成为{org}在{city}的第一名员工。"),
    ("{org} held its annual meeting in {city} on {when}, chaired by {person}.", "{when}，{org}在{city}召开年会，由{person}主持。"),
    ("{person} bought shares in {org} on {when} while living in {city}.", "{when}，住在{city}的{person}买入了{org}的股票。"),
]


def _sentence(rng: random.Random, lang: str, held_out: bool = False) -> tuple[str, dict]:
    """(sentence, field values); held-out draws use held-out frames and entities only."""
    person, org, city = (P.choose(rng, table, held_out) for table in (T.PEOPLE, T.ORGS, T.CITIES))
    month, year, day = rng.randrange(12), rng.randint(2015, 2026), rng.randint(1, 28)
    date = f"{year}-{month + 1:02d}-{day:02d}"
    frame = P.choose(rng, FRAMES, held_out)
    when = f"{T.MONTHS[month]['en']} {day}, {year}" if lang == "en" else f"{year}年{month + 1}月{day}日"
    text = frame[lang == "zh"].format(when=when, person=person[lang], org=org[lang], city=city[lang])
    return text, {"name": person[lang], "organization": org[lang], "city": city[lang], "date": date}


@dataclass
class Extraction(BuiltinTask):
    templates = TEMPLATES
    reference_model = ExtractionReference  # the fields score() reads
    metric: str = "entity micro-F1"  # metrics.ner: micro-F1 over (field or entity type, value)

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        text, values = _sentence(rng, lang, held_out)
        keys = [k for k in FIELD_NAMES if rng.random() < 0.75] or ["name", "city"]
        obj = {k: values[k] for k in keys}
        sep = ", " if lang == "en" else "、"
        fields = sep.join(FIELD_NAMES[k][lang == "zh"] for k in keys)
        prompt = template.format(t=text, keys=sep.join(keys), fields=fields)
        answer = json.dumps(obj, ensure_ascii=False)
        return self.build([prompt, answer], lang=lang, template=template_id, held_out=held_out,
                          reference={"answer": answer, "json": obj, "fields": keys})

    def score(self, output, record):
        return matchers.json_field_f1(output, record["reference"]["json"])

    def format_violations(self, output, record):
        return formats.check_not_empty(output) or formats.check_json_object(output, record["reference"].get("fields"))

    def output_likeness(self, output):
        return formats.json_likeness(output)

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        lead = draw.pick("summary_lead")
        return [Crossed(lead + draw.material.split("\n")[-1].strip(), "summarization", "restated_in_prose"),
                Crossed(draw.pick("labels"), "classification", "labelled"), draw.translated_request()]


TASK = Extraction(
    name="extraction",
    description={"en": "Extract named fields from text and return them as a JSON object.",
                 "zh": "从文本中抽取指定字段，并以JSON对象返回。"},
    signals={"en": [r"\bextract\w*\b", r"\bJSON\b", r"\bkeys?\b.*\b(?:name|city|date)\b", r"\bfields?\b", r"\bpull out\b", r"\bnamed entit\w*\b", r"\bidentify (?:all |the |every )?(?:names?|people|places|organi[sz]ations|dates)\b"],
             "zh": [r"抽取|提取", r"JSON", r"键为|字段", r"找出.{0,12}(?:人名|地名|机构|日期|名称)", r"列出.{0,12}(?:人名|地名|机构名)", r"实体"]},
    family="structured",
)
