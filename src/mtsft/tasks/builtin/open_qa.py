"""open_qa: a factual question answered in one sentence, from a facts table written for this project."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from mtsft.tasks import formats, matchers
from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import ShortAnswerReference
from mtsft.tasks.crossing import Crossed, CrossingDraw
from mtsft.tasks.metrics.answers import last_user_turn

# (country, capital) in English and Chinese
CAPITALS = [
    ("France", "法国", "Paris", "巴黎"), ("Japan", "日本", "Tokyo", "东京"), ("Italy", "意大利", "Rome", "罗马"),
    ("Germany", "德国", "Berlin", "柏林"), ("Egypt", "埃及", "Cairo", "开罗"), ("Canada", "加拿大", "Ottawa", "渥太华"),
    ("Australia", "澳大利亚", "Canberra", "堪培拉"), ("Spain", "西班牙", "Madrid", "马德里"),
    ("Russia", "俄罗斯", "Moscow", "莫斯科"), ("India", "印度", "New Delhi", "新德里"),
    ("Kenya", "肯尼亚", "Nairobi", "内罗毕"), ("Thailand", "泰国", "Bangkok", "曼谷"),
    ("Norway", "挪威", "Oslo", "奥斯陆"), ("Argentina", "阿根廷", "Buenos Aires", "布宜诺斯艾利斯"),
    ("South Korea", "韩国", "Seoul", "首尔"), ("Vietnam", "越南", "Hanoi", "河内"), ("Greece", "希腊", "Athens", "雅典"),
    ("Portugal", "葡萄牙", "Lisbon", "里斯本"), ("Peru", "秘鲁", "Lima", "利马"), ("Sweden", "瑞典", "Stockholm", "斯德哥尔摩"),
]
ELEMENTS = [
    ("oxygen", "氧", "O"), ("gold", "金", "Au"), ("iron", "铁", "Fe"), ("sodium", "钠", "Na"), ("silver", "银", "Ag"),
    ("carbon", "碳", "C"), ("helium", "氦", "He"), ("copper", "铜", "Cu"), ("potassium", "钾", "K"),
    ("calcium", "钙", "Ca"), ("hydrogen", "氢", "H"), ("nitrogen", "氮", "N"),
]
AUTHORS = [
    ("Hamlet", "《哈姆雷特》", "William Shakespeare", "莎士比亚"),
    ("Dream of the Red Chamber", "《红楼梦》", "Cao Xueqin", "曹雪芹"),
    ("Pride and Prejudice", "《傲慢与偏见》", "Jane Austen", "简·奥斯汀"),
    ("Journey to the West", "《西游记》", "Wu Cheng'en", "吴承恩"),
    ("War and Peace", "《战争与和平》", "Leo Tolstoy", "列夫·托尔斯泰"),
    ("Don Quixote", "《堂吉诃德》", "Miguel de Cervantes", "塞万提斯"),
    ("Romance of the Three Kingdoms", "《三国演义》", "Luo Guanzhong", "罗贯中"),
    ("The Old Man and the Sea", "《老人与海》", "Ernest Hemingway", "海明威"),
    ("One Hundred Years of Solitude", "《百年孤独》", "Gabriel García Márquez", "加西亚·马尔克斯"),
]
# free-standing facts: question, short answer, answer sentence (en, zh)
FACTS = [
    ("Which planet is the largest in the solar system?", "Jupiter", "Jupiter is the largest planet in the solar system.",
     "太阳系中最大的行星是哪一颗？", "木星", "太阳系中最大的行星是木星。"),
    ("What is the longest river in China?", "the Yangtze", "The longest river in China is the Yangtze.",
     "中国最长的河流是哪条？", "长江", "中国最长的河流是长江。"),
    ("What is the fastest land animal?", "the cheetah", "The fastest land animal is the cheetah.",
     "跑得最快的陆地动物是什么？", "猎豹", "跑得最快的陆地动物是猎豹。"),
    ("Who proposed the theory of relativity?", "Albert Einstein", "The theory of relativity was proposed by Albert Einstein.",
     "相对论是谁提出的？", "爱因斯坦", "相对论是爱因斯坦提出的。"),
    ("How many days are there in a leap year?", "366", "A leap year has 366 days.",
     "闰年有多少天？", "366天", "闰年有366天。"),
    ("What is the highest mountain on Earth?", "Mount Everest", "The highest mountain on Earth is Mount Everest.",
     "地球上最高的山峰是哪座？", "珠穆朗玛峰", "地球上最高的山峰是珠穆朗玛峰。"),
    ("Which planet is known as the Red Planet?", "Mars", "Mars is known as the Red Planet.",
     "哪颗行星被称为红色星球？", "火星", "被称为红色星球的是火星。"),
    ("What is the largest ocean on Earth?", "the Pacific Ocean", "The largest ocean on Earth is the Pacific Ocean.",
     "地球上最大的海洋是哪个？", "太平洋", "地球上最大的海洋是太平洋。"),
    ("Which gas do plants absorb from the air for photosynthesis?", "carbon dioxide",
     "Plants absorb carbon dioxide from the air for photosynthesis.",
     "植物进行光合作用时从空气中吸收哪种气体？", "二氧化碳", "植物进行光合作用时吸收二氧化碳。"),
    ("What is the hardest natural substance?", "diamond", "The hardest natural substance is diamond.",
     "自然界中最坚硬的物质是什么？", "金刚石", "自然界中最坚硬的物质是金刚石。"),
    ("Who invented the telephone?", "Alexander Graham Bell", "The telephone was invented by Alexander Graham Bell.",
     "电话是谁发明的？", "贝尔", "电话是贝尔发明的。"),
    ("At what temperature does water boil at sea level, in Celsius?", "100 degrees",
     "At sea level, water boils at 100 degrees Celsius.",
     "在海平面上，水在多少摄氏度沸腾？", "100摄氏度", "在海平面上，水在100摄氏度沸腾。"),
    ("Which organ pumps blood through the human body?", "the heart", "The heart pumps blood through the human body.",
     "人体中负责泵血的器官是什么？", "心脏", "人体中负责泵血的器官是心脏。"),
    ("What is the largest desert in the world?", "the Antarctic desert", "The largest desert in the world is the Antarctic desert.",
     "世界上最大的沙漠是哪个？", "南极沙漠", "世界上最大的沙漠是南极沙漠。"),
]

TEMPLATES = {
    "en": ["{q}", "Quick question: {q}", "Please answer in one sentence: {q}", "I'm curious. {q}",
           "Do you know the answer to this? {q}", "Trivia time! {q}", "Help me settle a bet: {q}",
           "{q} Keep the answer short.",
           "Something I never learned at school: {q}", "A friend asked me this and I had no idea: {q}"],
    "zh": ["{q}", "请问，{q}", "请用一句话回答：{q}", "我很好奇，{q}", "你知道这个问题的答案吗？{q}", "小测验：{q}",
           "帮我确认一下：{q}", "{q}简短回答即可。",
           "这个上学时没学过：{q}", "朋友问我这个，我答不上来：{q}"],
}


# More facts of the same shapes in content/facts_*.jsonl. A country row is (country, capital, continent),
# each en then zh, with no continent for a country that spans two; `facts_continents` gives the continent
# of the countries in CAPITALS, so CONTINENTS is a fifth relation over every country.
COUNTRIES = content.rows("facts_countries")
BASE_CONTINENTS = {row["country"]: row["continent"] for row in content.rows("facts_continents")}
ALL_CAPITALS = CAPITALS + [row[:4] for row in COUNTRIES]
CONTINENTS = ([(c_en, c_zh, *BASE_CONTINENTS[c_en]) for c_en, c_zh, _, _ in CAPITALS if c_en in BASE_CONTINENTS] +
              [(c_en, c_zh, t_en, t_zh) for c_en, c_zh, _, _, t_en, t_zh in COUNTRIES if t_en])
ALL_ELEMENTS = ELEMENTS + content.rows("facts_elements")
ALL_AUTHORS = AUTHORS + content.rows("facts_authors")
ALL_FACTS = FACTS + content.rows("facts_questions")


def draw_fact(rng: random.Random, lang: str, held_out: bool = False) -> tuple[str, str, str]:
    """(question, short answer, answer sentence) from one of the five tables; `held_out` draws only facts
    training never uses (a fixed partition of each table, see partition.py)."""
    kind = rng.randrange(5)
    en = lang == "en"
    if kind == 0:
        c_en, c_zh, k_en, k_zh = P.choose(rng, ALL_CAPITALS, held_out)
        return ((f"What is the capital of {c_en}?", k_en, f"The capital of {c_en} is {k_en}.") if en else
                (f"{c_zh}的首都是哪座城市？", k_zh, f"{c_zh}的首都是{k_zh}。"))
    if kind == 1:
        e_en, e_zh, sym = P.choose(rng, ALL_ELEMENTS, held_out)
        return ((f"What is the chemical symbol for {e_en}?", sym, f"The chemical symbol for {e_en} is {sym}.") if en else
                (f"{e_zh}元素的化学符号是什么？", sym, f"{e_zh}元素的化学符号是{sym}。"))
    if kind == 2:
        w_en, w_zh, a_en, a_zh = P.choose(rng, ALL_AUTHORS, held_out)
        return ((f"Who wrote {w_en}?", a_en, f"{w_en} was written by {a_en}.") if en else
                (f"{w_zh}的作者是谁？", a_zh, f"{w_zh}的作者是{a_zh}。"))
    if kind == 3:
        c_en, c_zh, t_en, t_zh = P.choose(rng, CONTINENTS, held_out)
        return ((f"On which continent is {c_en}?", t_en, f"{c_en[0].upper() + c_en[1:]} is in {t_en}.") if en else
                (f"{c_zh}位于哪个大洲？", t_zh, f"{c_zh}位于{t_zh}。"))
    q_en, s_en, a_en, q_zh, s_zh, a_zh = P.choose(rng, ALL_FACTS, held_out)
    return (q_en, s_en, a_en) if en else (q_zh, s_zh, a_zh)


@dataclass
class OpenQA(BuiltinTask):
    templates = TEMPLATES
    reference_model = ShortAnswerReference  # the fields score() reads
    metric: str = "SQuAD F1 (en) / CMRC2018 F1 (zh)"  # metrics.squad / metrics.cmrc2018, extracted span

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        question, short, sentence = draw_fact(rng, lang, held_out)
        return self.build([template.format(q=question), sentence], lang=lang, template=template_id,
                          held_out=held_out, reference={"answer": sentence, "short": short})

    def score(self, output, record):
        ref = record["reference"]  # the short answer: a wrong entity in the reference sentence is wrong
        if ref.get("short") and matchers.normalize_label(output) == matchers.normalize_label(ref["answer"]):
            return 1.0  # the reference sentence itself (its wording may paraphrase the question)
        answers = [ref["short"]] if ref.get("short") else list(ref.get("answers") or [ref["answer"]])
        return matchers.answer_f1(output, answers, question=last_user_turn(record), lang=self.answer_lang(record))

    def format_violations(self, output, record):
        return (formats.check_not_empty(output) or
                formats.check_language(output, self.answer_lang(record)) + formats.check_plain_text(output))

    def output_likeness(self, output):
        # A one- or two-sentence declarative statement of fact: "X is Y." / "X是Y。"
        text = output.strip()
        if not text or formats.has_markdown(text) or "\n" in text or "?" in text or "？" in text:
            return 0.0
        declarative = bool(re.search(r"\b(?:is|was|are|has)\b|是|有", text))
        ends = text.endswith((".", "。"))
        return 0.2 + 0.3 * declarative + 0.2 * ends if formats.n_sentences(text) <= 2 else 0.1

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        short = draw.reference.get("short") or draw.reference["answer"]
        return [draw.translated_request(),
                Crossed(draw.rng.choice([f'```python\nanswer = "{short}"\nprint(answer)\n```',
                                         f'```python\ndef answer():\n    return "{short}"\n```']), "code", "answer_as_code"),
                Crossed(draw.rng.choice([json.dumps({"answer": short}, ensure_ascii=False),
                                         json.dumps({"question": draw.material[:60], "answer": short}, ensure_ascii=False)]),
                        "extraction", "answer_as_json"),
                Crossed(draw.pick("chat"), "chitchat", "chatted")]


TASK = OpenQA(
    name="open_qa",
    description={"en": "Answer a factual question briefly and correctly.", "zh": "简洁准确地回答事实性问题。"},
    signals={"en": [r"^(?:what|who|which|when|where|how many)\b.*\?", r"\bcapital of\b", r"\bwho (?:wrote|invented)\b"],
             "zh": [r"是(?:谁|什么|哪)", r"多少", r"首都", r"作者是谁"]},
    family="knowledge",
)
