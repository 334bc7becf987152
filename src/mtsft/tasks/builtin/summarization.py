"""summarization: a short text (news item, notice, report) summarised in one sentence; ROUGE-L.

Hard negatives: the text is a list of ideas (summarise it, do not extend it) or a piece of code
(explain it in a sentence, do not run or rewrite it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mtsft.tasks import formats, relevance, matchers
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import content_passages as CP
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask, numbered
from mtsft.tasks.references import SummaryReference
from mtsft.tasks.crossing import NUMBER, Crossed, CrossingDraw

TEMPLATES = {
    "en": ["Summarize the following text in one sentence.\n\n{t}", "TL;DR:\n{t}", "Give a one-sentence summary:\n{t}",
           "Sum this up briefly.\n\"{t}\"", "{t}\n\nSummarize the above.", "What is the gist of this? One sentence please.\n{t}",
           "Write a short summary of the text below.\n---\n{t}", "Condense this into a single sentence: {t}",
           "My boss wants the key point of this in one line:\n{t}", "In a sentence, what does this say?\n\n{t}"],
    "zh": ["用一句话概括下面的内容。\n\n{t}", "总结一下：\n{t}", "给出一句话摘要：\n{t}", "简要概括这段话。\n“{t}”",
           "{t}\n\n请总结上文。", "这段话的要点是什么？一句话说明。\n{t}", "为下面的文字写一个简短摘要。\n---\n{t}",
           "把这段内容压缩成一句话：{t}", "老板要我用一句话说清楚这段话的重点：\n{t}", "一句话说说这段文字讲了什么？\n\n{t}"],
}


def _news(rng: random.Random, lang: str) -> tuple[str, str]:
    org, product, city = rng.choice(T.ORGS)[lang], rng.choice(T.PRODUCTS)[lang], rng.choice(T.CITIES)[lang]
    person, units, pct = rng.choice(T.PEOPLE)[lang], rng.randint(5, 80) * 1000, rng.randint(10, 60)
    if lang == "en":
        text = (f"{org} has launched {product} at a press event in {city}. The company says early orders reached "
                f"{units} units in the first week. Spokesperson {person} said the price was kept low on purpose. "
                f"Analysts expect sales to grow by {pct} percent next year.")
        return text, f"{org} launched {product} in {city} and received {units} orders in the first week."
    text = (f"{org}在{city}举行发布会，推出了{product}。公司表示，首周订单达到{units}件。发言人{person}说，"
            f"价格是有意压低的。分析人士预计明年销量将增长{pct}%。")
    return text, f"{org}在{city}推出{product}，首周订单达{units}件。"


def _festival(rng: random.Random, lang: str) -> tuple[str, str]:
    city, season, days, visitors = rng.choice(T.CITIES)[lang], rng.choice(T.SEASONS)[lang], rng.randint(3, 10), rng.randint(2, 90)
    if lang == "en":
        text = (f"The {season} lantern festival in {city} ended on Sunday after {days} days. Organisers counted about "
                f"{visitors} thousand visitors, more than ever before. Local restaurants stayed open late, and the "
                f"city added extra buses at night.")
        return text, f"{city}'s {days}-day {season} lantern festival drew a record {visitors} thousand visitors."
    text = (f"{city}{season}灯会在持续{days}天后于周日闭幕。主办方统计约有{visitors}万人次参观，创下历史新高。"
            f"当地餐馆延长了营业时间，市里还加开了夜间公交。")
    return text, f"{city}{season}灯会举办{days}天，吸引约{visitors}万人次，创历史新高。"


def _study(rng: random.Random, lang: str) -> tuple[str, str]:
    city, minutes, n = rng.choice(T.CITIES)[lang], rng.randint(10, 40), rng.randint(2, 9) * 100
    habit = rng.choice([("reading before bed", "睡前阅读"), ("a short afternoon nap", "午后小睡"),
                        ("walking to school", "步行上学"), ("eating breakfast", "吃早餐")])[lang == "zh"]
    if lang == "en":
        text = (f"Researchers in {city} followed {n} students for one school year. Those who spent about {minutes} "
                f"minutes a day on {habit} scored higher in tests. The team says the effect was small but steady, "
                f"and plans a larger study next year.")
        return text, f"A study of {n} students in {city} found that {habit} was linked to higher test scores."
    text = (f"{city}的研究人员对{n}名学生跟踪了一个学年。每天{habit}约{minutes}分钟的学生考试成绩更高。"
            f"研究团队表示，这种影响虽小但很稳定，明年将开展更大规模的研究。")
    return text, f"{city}一项针对{n}名学生的研究发现，{habit}与更高的考试成绩有关。"


def _idea_list(rng: random.Random, lang: str, held_out: bool = False) -> tuple[str, str]:
    from mtsft.tasks.builtin.brainstorming import IDEAS

    (topic_en, topic_zh), pool = P.choose(rng, IDEAS, held_out)
    picked = rng.sample(pool, 4)
    text = numbered([p[lang == "zh"] for p in picked])
    if lang == "en":
        return text, f"The list gives four {topic_en}, such as: {picked[0][0].lower()} and {picked[1][0].lower()}."
    return text, f"这份清单列出了四个{topic_zh}，比如{picked[0][1]}和{picked[1][1]}。"


def _code_snippet(rng: random.Random, lang: str, held_out: bool = False) -> tuple[str, str]:
    from mtsft.tasks.builtin.code_specs import SPECS

    spec = P.choose(rng, SPECS, held_out)(rng)
    text = f"```python\n{spec['solution'].rstrip()}\n```"
    return text, (f"The code defines {spec['en']}." if lang == "en" else f"这段代码定义了函数{spec['zh']}。")


TEXT_KINDS = [_news, _festival, _study, *CP.SUM_TEXTS]  # 17 more skeletons (content_passages.py)


@dataclass
class Summarization(BuiltinTask):
    templates = TEMPLATES
    reference_model = SummaryReference  # the fields score() reads

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        roll = rng.random()
        maker = _idea_list if roll < 0.1 else _code_snippet if roll < 0.18 else P.choose(rng, TEXT_KINDS, held_out)
        if maker in (_idea_list, _code_snippet):
            text, summary = maker(rng, lang, held_out)
        else:  # a text kind: held-out kinds (and entities) never appear in training
            text, summary = maker(rng, lang) if callable(maker) else CP.summary_text(rng, maker, lang, held_out)
        return self.build([template.format(t=text), summary], lang=lang, template=template_id, held_out=held_out,
                          hard_negative=maker in (_idea_list, _code_snippet),
                          reference={"answer": summary, "source": text})

    def score(self, output, record):
        """facts x compression x quality. Facts: the share of the reference summary's content words that
        come from the passage (names, numbers, key terms) found in the output, full credit from 70%, so a
        summary in other words counts; compression: at most half the passage (or 1.25x the reference's
        ratio), nothing at 20 points past it; a copy or echo of the passage is 0; quality: no repetition,
        and it ends as a sentence does (x0.15 otherwise: a bare list of the facts is not a summary)."""
        ref = record["reference"]
        source, answer = ref.get("source", ""), ref["answer"]
        prompt = relevance.last_user(record)
        if relevance.is_echo(output, prompt) or relevance.is_echo(output, source):
            return 0.0
        facts = min(1.0, relevance.unit_recall(output, answer, within=source) / 0.7)
        n_src = max(1, relevance.length(source))
        allowed = max(0.5, 1.25 * relevance.length(answer) / n_src)
        compression = max(0.0, min(1.0, 1 - (relevance.length(output) / n_src - allowed) / 0.2))
        sentence = 1.0 if relevance.sentence_end(output) else 0.15
        lang_ok = matchers.language_ok(output, self.answer_lang(record))
        return facts * compression * sentence * relevance.non_degenerate(output) * (0.5 + 0.5 * lang_ok)

    def format_violations(self, output, record):
        problems = formats.check_answer_text(output, self.answer_lang(record))
        if problems == ["empty_output"]:
            return problems
        n_out, n_src = len(matchers.tokens(output)), len(matchers.tokens(record["reference"]["source"]))
        if n_out > max(1.5 * n_src, 40) or n_out > 0.9 * n_src > 40:
            problems.append("summary_too_long")
        return problems

    def output_likeness(self, output):
        # One or two plain sentences of medium length that report (not answer, not chat).
        text = output.strip()
        if not text or "\n" in text or formats.has_markdown(text) or "?" in text or "？" in text:
            return 0.0
        n = len(matchers.tokens(text))
        return 0.55 if 12 <= n <= 50 and formats.n_sentences(text) <= 2 else 0.2 if n > 8 else 0.05

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        source = draw.reference["source"]
        nums = NUMBER.findall(source)
        span = draw.rng.choice(nums) if nums else draw.snippet(source)[:12]
        return [Crossed(draw.other["reference"]["source"], "translation", "passage_translated"),
                Crossed(span, "reading_comprehension", "answered_a_detail")]


TASK = Summarization(
    name="summarization",
    description={"en": "Summarise a short text in one sentence.", "zh": "用一句话概括一段短文。"},
    signals={"en": [r"\bsumm?ari[sz]\w*\b", r"\bTL;?DR\b", r"\bgist\b", r"\bcondense\b", r"\bkey point\b", r"\babstract\b", r"\bin (?:one|a single) sentence\b", r"\bboil (?:it|this) down\b"],
             "zh": [r"概括", r"总结", r"摘要", r"要点", r"压缩", r"一句话(?:说明|概括|总结)", r"简要(?:说明|概述)"]},
    family="transform",
    metric="fact recall x compression",
)
