"""classification: review sentiment and headline topic, answered with a bare label.

Hard negatives: a review written as if talking to the assistant ("would you stay here?") must be
classified, not replied to.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mtsft.tasks import formats, matchers
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import LabelReference
from mtsft.tasks.crossing import Crossed, CrossingDraw
from mtsft.tasks.metrics import accuracy

SENTIMENT = {"en": ["positive", "negative"], "zh": ["正面", "负面"]}
TOPICS = {"en": ["sports", "technology", "finance", "entertainment", "health"],
          "zh": ["体育", "科技", "财经", "娱乐", "健康"]}
# labels the crosstalk judge's variants add to a prompt's list (`judge_record`)
EXTRA_LABELS = {"en": ["travel", "education", "food", "cars", "games", "books", "phones", "hotels", "fashion", "music",
                       "neutral", "mixed"],
                "zh": ["旅游", "教育", "美食", "汽车", "游戏", "书籍", "手机", "酒店", "服装", "音乐", "中性", "水果", "家电"]}

SUBJECTS = [("hotel", "酒店"), ("restaurant", "餐厅"), ("phone", "手机"), ("pair of headphones", "耳机"),
            ("novel", "小说"), ("coffee shop", "咖啡店"), ("backpack", "背包"), ("rice cooker", "电饭煲")]
GOOD = [("the staff were friendly and helpful", "服务人员热情周到"), ("it was worth every penny", "物有所值"),
        ("the quality is excellent", "质量非常好"), ("I would definitely come back", "下次一定还来"),
        ("delivery was fast", "发货很快"), ("everything was clean and comfortable", "干净又舒适"),
        ("it exceeded my expectations", "超出了我的预期")]
BAD = [("the staff were rude", "服务员态度很差"), ("it broke after two days", "用了两天就坏了"),
       ("it was far too expensive for what you get", "价格太贵，不值这个钱"), ("I will never buy it again", "再也不会买了"),
       ("the room smelled of smoke", "房间里有一股烟味"), ("it was noisy all night", "整晚都很吵"),
       ("it was nothing like the pictures", "和图片完全不一样")]
HEADLINES = {
    "sports": [("{city} team wins the national basketball final", "{city}队夺得全国篮球总决赛冠军"),
               ("{person} breaks the marathon record by {n} seconds", "{person}以{n}秒优势打破马拉松纪录"),
               ("Football club from {city} signs a new coach", "{city}足球俱乐部签下新主教练")],
    "technology": [("{org} unveils a chip that is {n} percent faster", "{org}发布速度提升{n}%的新芯片"),
                   ("New phone battery from {org} charges in {n} minutes", "{org}新款手机电池{n}分钟充满"),
                   ("{city} opens its first self-driving bus line", "{city}开通首条无人驾驶公交线路")],
    "finance": [("{org} shares rise {n} percent after strong results", "{org}业绩亮眼，股价上涨{n}%"),
                ("Central bank keeps interest rates unchanged", "央行维持利率不变"),
                ("{org} reports profit of {n} million yuan", "{org}公布利润{n}百万元")],
    "entertainment": [("{person} stars in a new comedy filmed in {city}", "{person}主演的新喜剧在{city}拍摄"),
                      ("Concert in {city} sells out in {n} minutes", "{city}演唱会门票{n}分钟售罄"),
                      ("Animated film tops the box office for {n} weeks", "动画电影连续{n}周登顶票房")],
    "health": [("Study finds walking {n} minutes a day lowers blood pressure", "研究发现每天步行{n}分钟有助降血压"),
               ("{city} hospitals add evening clinics for children", "{city}多家医院增设儿童夜间门诊"),
               ("Doctors advise {n} hours of sleep for teenagers", "医生建议青少年每天睡{n}小时")],
}

TEMPLATES = {
    "en": ["Classify the sentiment of this review as {opts}.\n{t}", "Is the following review {opts}? Answer with one word.\n{t}",
           "Label this text ({opts}):\n{t}", "Which category fits best: {opts}?\n\"{t}\"",
           "Text: {t}\nLabel ({opts}):", "Read the text and output only its label, one of {opts}.\n{t}",
           "Categorize: {t}\nOptions: {opts}.", "Tag the following with exactly one label from [{opts}].\n{t}",
           "Sort this into one bucket ({opts}), no explanation: {t}", "{t}\n\nWhat is the right label here? Choose from {opts}."],
    "zh": ["判断这条评论的情感倾向（{opts}）：\n{t}", "下面这段文字属于{opts}中的哪一类？只回答一个词。\n{t}",
           "给这段文字打标签（{opts}）：\n{t}", "最合适的类别是哪个：{opts}？\n“{t}”", "文本：{t}\n标签（{opts}）：",
           "阅读文本，只输出它的标签，从{opts}中选一个。\n{t}", "分类：{t}\n选项：{opts}。", "从[{opts}]中选一个标签标注下面的内容。\n{t}",
           "把这段话归到一类（{opts}），不要解释：{t}", "{t}\n\n这里的正确标签是什么？从{opts}中选择。"],
}


# more of each in content/classification_*.jsonl; a headline row is a topic's (en, zh) pattern over {city}
# {person} {org} {n}
ALL_SUBJECTS = SUBJECTS + content.rows("classification_subjects")
ALL_GOOD, ALL_BAD = GOOD + content.rows("classification_good"), BAD + content.rows("classification_bad")
ALL_HEADLINES = {topic: HEADLINES[topic] + [(row["en"], row["zh"]) for row in content.rows("classification_headlines")
                                            if row["topic"] == topic] for topic in HEADLINES}


def _review(rng: random.Random, lang: str, held_out: bool = False) -> tuple[str, str, bool]:
    """(review, label, is_hard_negative); `held_out` uses only subjects and phrases training never sees."""
    subject = P.choose(rng, ALL_SUBJECTS, held_out)[lang == "zh"]
    positive = rng.random() < 0.5
    a, b = P.sample(rng, ALL_GOOD if positive else ALL_BAD, 2, held_out)
    label = SENTIMENT[lang][0 if positive else 1]
    hard = rng.random() < 0.2
    if lang == "en":
        text = f"I bought this {subject} last month: {a[0]}, and {b[0]}."
        if hard:
            text = f"Hi, can I ask you something? About the {subject}: {a[0]} and {b[0]}. Would you choose it?"
    else:
        text = f"上个月买的这个{subject}，{a[1]}，{b[1]}。"
        if hard:
            text = f"你好，想问你个事。说到这个{subject}：{a[1]}，{b[1]}。你会选它吗？"
    return text, label, hard


def _headline(rng: random.Random, lang: str, held_out: bool = False) -> tuple[str, str]:
    topic_i = rng.randrange(len(TOPICS["en"]))
    pattern = P.choose(rng, ALL_HEADLINES[TOPICS["en"][topic_i]], held_out)[lang == "zh"]
    text = pattern.format(city=P.choose(rng, T.CITIES, held_out, lang), person=P.choose(rng, T.PEOPLE, held_out, lang),
                          org=P.choose(rng, T.ORGS, held_out, lang), n=rng.randint(2, 60))
    return text, TOPICS[lang][topic_i]


def _options(labels: list[str], lang: str) -> str:
    return (" or ".join([", ".join(labels[:-1]), labels[-1]]) if lang == "en" else "、".join(labels))


@dataclass
class Classification(BuiltinTask):
    templates = TEMPLATES
    reference_model = LabelReference  # the fields score() reads
    metric: str = "accuracy"  # metrics.accuracy: the one label named, from the set the prompt lists

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        if rng.random() < 0.55:
            text, label, hard = _review(rng, lang, held_out)
            labels = SENTIMENT[lang]
        else:
            (text, label), hard = _headline(rng, lang, held_out), False
            labels = TOPICS[lang]
        prompt = template.format(t=text, opts=_options(labels, lang))
        return self.build([prompt, label], lang=lang, template=template_id, held_out=held_out, hard_negative=hard,
                          reference={"answer": label, "label": label, "labels": labels})

    def score(self, output, record):
        ref = record["reference"]
        return accuracy.accuracy(output, ref["label"], ref.get("labels"))

    def format_violations(self, output, record):
        ref = record["reference"]
        return formats.check_not_empty(output) or formats.check_label(output, ref.get("labels") or [ref["label"]])

    def output_likeness(self, output):
        # A bare label: one known label word, or one or two words with nothing else.
        norm = matchers.normalize_label(output)
        if not norm or "\n" in output.strip():
            return 0.0
        if norm in ALL_LABELS:
            return 1.0
        n = len(matchers.tokens(output))
        return 0.5 if n <= 2 and not any(c.isdigit() for c in norm) else 0.0

    def judge_record(self, record, rng, *, held_out=False):
        # the same text with a longer list of labels to choose from, so the judge does not learn the
        # registry's label sets by heart
        if rng.random() >= 0.4:
            return record
        ref, lang = record["reference"], record["lang"]
        labels = list(ref.get("labels") or [])
        if not labels or not any(_options(labels, lang) in m["content"] for m in record["messages"] if m["role"] == "user"):
            return record
        more = labels + rng.sample([x for x in EXTRA_LABELS[lang] if x not in labels], k=rng.randint(2, 6))
        rng.shuffle(more)
        listed, new = _options(labels, lang), _options(more, lang)
        msgs = [dict(m, content=m["content"].replace(listed, new)) if m["role"] == "user" else dict(m)
                for m in record["messages"]]
        return {**record, "messages": msgs, "reference": {**ref, "labels": more}}

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        label = draw.reference["label"]
        explained = draw.pick("explain_label").format(label=label, snip=draw.snippet(draw.material))
        return [Crossed(explained, "open_qa", "label_explained"), draw.translated_request(),
                Crossed(draw.pick("chat"), "chitchat", "replied_to_text"),
                Crossed(draw.pick("summary_lead") + draw.material, "summarization", "restated_text")]


ALL_LABELS = {matchers.normalize_label(x) for group in (SENTIMENT, TOPICS) for labels in group.values() for x in labels}


TASK = Classification(
    name="classification",
    description={"en": "Assign a label (sentiment or topic) to a text and answer with the label only.",
                 "zh": "给文本分配一个标签（情感或主题），只回答标签。"},
    signals={"en": [r"\bclassif\w+\b", r"\blabel\b", r"\bsentiment\b", r"\bcategor\w+\b", r"\bpositive or negative\b"],
             "zh": [r"分类", r"标签", r"情感倾向", r"类别", r"正面.{0,3}负面"]},
    family="structured",
)
