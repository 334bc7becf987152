"""reading_comprehension: a short passage and a question whose answer is a span of the passage."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from mtsft.tasks import formats, matchers
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import content_passages as CP
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import ShortAnswerReference
from mtsft.tasks.crossing import Crossed, CrossingDraw, joiner, sentences
from mtsft.tasks.metrics.answers import copies_passage, last_user_turn

TEMPLATES = {
    "en": ["Read the passage and answer the question.\n\nPassage: {p}\n\nQuestion: {q}",
           "{p}\n\nBased on the text above, {q_low}",
           "Passage:\n{p}\n\nAnswer with a phrase from the passage. {q}",
           "Here is a short text.\n{p}\nQuestion: {q} Answer briefly.",
           "Context: {p}\nQ: {q}\nA:",
           "Using only the information in this paragraph, answer: {q}\n\n{p}",
           "I read this today: \"{p}\" {q}",
           "According to the passage below, {q_low}\n\n{p}",
           "Look at this paragraph and tell me: {q}\n---\n{p}\n---",
           "{q} The answer is somewhere in this text:\n{p}"],
    "zh": ["阅读下面的短文并回答问题。\n\n短文：{p}\n\n问题：{q}",
           "{p}\n\n根据上文，{q}",
           "短文：\n{p}\n\n请用原文中的词语回答：{q}",
           "这是一段文字。\n{p}\n问题：{q}请简要回答。",
           "材料：{p}\n问：{q}\n答：",
           "只根据这段话回答：{q}\n\n{p}",
           "我今天读到这段话：“{p}”{q}",
           "根据下面的短文，{q}\n\n{p}",
           "看看这段话，告诉我：{q}\n---\n{p}\n---",
           "{q}答案就在这段文字里：\n{p}"],
}


def _shop_story(rng: random.Random, lang: str) -> tuple[str, list[tuple[str, str]]]:
    person, city, shop = rng.choice(T.PEOPLE), rng.choice(T.CITIES), rng.choice(T.SHOPS)
    year, start, staff = rng.randint(1995, 2021), rng.randint(8, 40), rng.randint(5, 60)
    if lang == "en":
        p = (f"In {year}, {person['en']} opened a small {shop['en']} in {city['en']}. At first only about {start} "
             f"customers came each day, but word spread quickly. Today the {shop['en']} employs {staff} people and "
             f"is one of the best known in the city.")
        qa = [(f"Who opened the {shop['en']}?", person["en"]), (f"In which city is the {shop['en']}?", city["en"]),
              (f"In what year was the {shop['en']} opened?", str(year)),
              (f"How many people does the {shop['en']} employ today?", str(staff))]
    else:
        p = (f"{year}年，{person['zh']}在{city['zh']}开了一家小{shop['zh']}。起初每天只有大约{start}位顾客，"
             f"但口碑很快传开了。如今这家{shop['zh']}有{staff}名员工，是城里最有名的店之一。")
        qa = [(f"这家{shop['zh']}是谁开的？", person["zh"]), (f"这家{shop['zh']}在哪个城市？", city["zh"]),
              (f"这家{shop['zh']}是哪一年开的？", f"{year}年"), (f"这家{shop['zh']}现在有多少名员工？", f"{staff}名")]
    return p, qa


def _trip_story(rng: random.Random, lang: str) -> tuple[str, list[tuple[str, str]]]:
    person, city, place = rng.choice(T.PEOPLE), rng.choice(T.CITIES), rng.choice(T.PLACES)
    item, vehicle, season = rng.choice(T.ITEMS), rng.choice(T.VEHICLES), rng.choice(T.SEASONS)
    hours = rng.randint(2, 14)
    if lang == "en":
        p = (f"Last {season['en']}, {person['en']} travelled to {city['en']} by {vehicle['en']}. The journey took "
             f"{hours} hours. On the first day {person['en']} visited the {place['en']}, and before leaving bought "
             f"a {item['en']} as a gift for a friend.")
        qa = [(f"How did {person['en']} travel to {city['en']}?", f"by {vehicle['en']}"),
              ("How many hours did the journey take?", str(hours)),
              (f"What did {person['en']} visit on the first day?", f"the {place['en']}"),
              (f"What did {person['en']} buy as a gift?", f"a {item['en']}"),
              (f"When did {person['en']} travel to {city['en']}?", f"last {season['en']}")]
    else:
        p = (f"去年{season['zh']}，{person['zh']}坐{vehicle['zh']}去了{city['zh']}，路上花了{hours}个小时。第一天"
             f"{person['zh']}参观了{place['zh']}，离开前还买了一件{item['zh']}送给朋友。")
        qa = [(f"{person['zh']}是怎么去{city['zh']}的？", f"坐{vehicle['zh']}"), ("路上花了多长时间？", f"{hours}个小时"),
              (f"{person['zh']}第一天参观了哪里？", place["zh"]), (f"{person['zh']}买了什么送给朋友？", item["zh"]),
              (f"{person['zh']}是什么时候去{city['zh']}的？", f"去年{season['zh']}")]
    return p, qa


def _launch_story(rng: random.Random, lang: str) -> tuple[str, list[tuple[str, str]]]:
    org, product, month = rng.choice(T.ORGS), rng.choice(T.PRODUCTS), rng.choice(T.MONTHS)
    price, units = rng.randint(19, 499), rng.randint(2, 90) * 1000
    if lang == "en":
        p = (f"In {month['en']}, {org['en']} launched {product['en']}. It sells for {price} yuan. In the first "
             f"month the company sold {units} units, more than it had planned for the whole quarter.")
        qa = [(f"What did {org['en']} launch?", product["en"]), ("How much does the product cost?", f"{price} yuan"),
              ("How many units were sold in the first month?", str(units)),
              ("In which month was the product launched?", month["en"])]
    else:
        p = (f"{month['zh']}，{org['zh']}推出了{product['zh']}，售价{price}元。上市第一个月就卖出了{units}件，"
             f"超过了公司原本整个季度的计划。")
        qa = [(f"{org['zh']}推出了什么产品？", product["zh"]), ("这款产品售价多少？", f"{price}元"),
              ("第一个月卖出了多少件？", f"{units}件"), ("产品是在几月推出的？", month["zh"])]
    return p, qa


STORIES = [_shop_story, _trip_story, _launch_story]
ALL_STORIES = STORIES + CP.RC_STORIES  # 12 more skeletons (content_passages.py)


@dataclass
class ReadingComprehension(BuiltinTask):
    templates = TEMPLATES
    reference_model = ShortAnswerReference  # the fields score() reads
    metric: str = "SQuAD F1 (en) / CMRC2018 F1 (zh)"  # metrics.squad / metrics.cmrc2018, extracted span

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        story = P.choose(rng, ALL_STORIES, held_out)  # held-out skeletons never appear in training
        passage, qa = story(rng, lang) if callable(story) else CP.rc_story(rng, story, lang, held_out)
        question, answer = rng.choice(qa)
        q_low = question[0].lower() + question[1:] if lang == "en" else question
        prompt = template.format(p=passage, q=question, q_low=q_low)
        return self.build([prompt, answer], lang=lang, template=template_id, held_out=held_out,
                          reference={"answer": answer, "answers": [answer], "passage": passage})

    def score(self, output, record):
        ref = record["reference"]
        if copies_passage(output, ref.get("passage") or "", ref.get("answers") or [ref["answer"]]):
            return 0.0  # the passage (or most of it) handed back is no answer
        # the words the question supplies (not the passage: the answer is in the passage)
        question = ref.get("question") or last_user_turn(record).replace(ref.get("passage") or "\0", " ")
        return matchers.answer_f1(output, ref.get("answers") or [ref["answer"]], question=question,
                                 lang=self.answer_lang(record))

    def format_violations(self, output, record):
        problems = formats.check_answer_text(output, self.answer_lang(record))
        if problems == ["empty_output"]:
            return problems
        passage = record["reference"].get("passage", "")
        if len(output) > max(60, 2 * len(passage)) or passage and output.strip() in passage and len(output) > 0.8 * len(passage):
            problems.append("copies_passage")
        return problems

    def output_likeness(self, output):
        # A short span lifted from a text: a few words, no sentence of its own.
        text = output.strip()
        if not text or "\n" in text or formats.has_markdown(text):
            return 0.0
        n = len(matchers.tokens(text))
        sentence_end = bool(re.search(r"[.!?。！？]$", text))
        if n <= 6 and not sentence_end:
            return 0.75
        return 0.25 if n <= 12 else 0.05

    def judge_record(self, record, rng, *, held_out=False):
        # the same question over a longer passage (its own plus other passages of the language), so the
        # judge does not learn that reading-comprehension passages are short
        if rng.random() >= 0.4:
            return record
        passage = record["reference"]["passage"]
        extra = [self.generate(random.Random(rng.randrange(1 << 30)), record["lang"], held_out=held_out)["reference"]["passage"]
                 for _ in range(rng.choice([1, 2, 3]))]
        joined = joiner(record["lang"]).join([passage] + extra)
        msgs = [dict(m) for m in record["messages"]]
        for m in msgs:
            if m["role"] == "user" and passage in m["content"]:
                m["content"] = m["content"].replace(passage, joined)
        return {**record, "messages": msgs, "reference": {**record["reference"], "passage": joined}}

    def clean_output(self, record, rng):
        output = super().clean_output(record, rng)
        if rng.random() < 0.3:
            # quoting the passage's sentence that holds the answer is still answering (the opening
            # sentences alone would read as a lead summary)
            holding = [x for x in sentences(record["reference"]["passage"], record["lang"])[1:] if output in x]
            output = holding[0] if holding else output
        return output

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        sents = sentences(draw.reference["passage"], draw.lang)
        prefix = draw.pick("summary_lead") if draw.rng.random() < 0.5 else ""  # often no preamble
        lead = prefix + joiner(draw.lang).join(sents[:draw.rng.choice([1, 2])])
        return [Crossed(lead, "summarization", "passage_summarised"),
                Crossed(draw.other["reference"]["passage"], "translation", "passage_translated")]


TASK = ReadingComprehension(
    name="reading_comprehension",
    description={"en": "Answer a question about a given passage with a span from it.",
                 "zh": "根据给定短文回答问题，答案取自原文。"},
    signals={"en": [r"\bpassage\b", r"\bbased on the (?:text|passage)\b", r"\baccording to the (?:text|passage)\b",
                    r"\bcontext:"],
             "zh": [r"阅读(?:下面|以下)?的?(?:短文|材料|文章)", r"根据(?:上文|短文|材料|下面的短文)", r"短文：", r"材料："]},
    family="knowledge",
)
