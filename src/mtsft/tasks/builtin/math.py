"""math: arithmetic word problems with worked solutions; verified by the final number."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from mtsft.tasks import formats, matchers
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import content_math
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import MathReference
from mtsft.tasks.crossing import NUMBER, Crossed, CrossingDraw, joiner, sentences, weak_outputs

TEMPLATES = {
    "en": ["{p}", "Solve this word problem: {p}", "Math question: {p} Show your working.",
           "{p} Please explain step by step.", "Can you help with my homework? {p}", "Work out the answer: {p}",
           "Here's a problem from my textbook. {p}", "{p} Give the final answer at the end.",
           "Quick mental-math check: {p}", "My kid asked me this and I want to be sure: {p}"],
    "zh": ["{p}", "解这道应用题：{p}", "数学题：{p}请写出计算过程。", "{p}请一步一步解释。", "能帮我做一下作业吗？{p}",
           "算一算：{p}", "这是课本上的一道题。{p}", "{p}最后给出答案。",
           "心算检查一下：{p}", "孩子问我这道题，我想确认一下：{p}"],
}


def _problem(rng: random.Random, lang: str, kind: int | None = None) -> tuple[tuple[str, str], int]:
    """((problem, worked solution without the answer line), answer); one of the eight original kinds (more
    kinds, and the train / held-out split over them, are in content_math.py)."""
    en = lang == "en"
    who = rng.choice(T.PEOPLE)[lang]
    kind = rng.randrange(8) if kind is None else kind
    if kind == 0:
        a, b, c = rng.randint(2, 30), rng.randint(2, 9), rng.randint(3, 12)
        ans = a + b * c
        return ((f"{who} has {a} apples and buys {b} bags with {c} apples in each. How many apples does {who} have now?",
                 f"The bags hold {b} × {c} = {b * c} apples. {a} + {b * c} = {ans}.") if en else
                (f"{who}有{a}个苹果，又买了{b}袋，每袋{c}个。{who}现在一共有多少个苹果？",
                 f"买来的苹果有{b} × {c} = {b * c}个，{a} + {b * c} = {ans}。"), ans)
    if kind == 1:
        v, t = rng.randint(4, 12) * 10, rng.randint(2, 6)
        ans = v * t
        return ((f"A car travels at {v} km/h for {t} hours. How many kilometres does it cover?",
                 f"Distance = speed × time = {v} × {t} = {ans} km.") if en else
                (f"一辆汽车以每小时{v}千米的速度行驶了{t}小时，一共行驶了多少千米？",
                 f"路程 = 速度 × 时间 = {v} × {t} = {ans}千米。"), ans)
    if kind == 2:
        p, d = rng.randint(3, 30) * 20, rng.choice([10, 20, 25, 50])
        ans = p * (100 - d) // 100
        return ((f"A jacket costs {p} yuan and is sold at {d}% off. What is the sale price in yuan?",
                 f"The discount is {p} × {d}% = {p * d // 100} yuan, so the price is {p} - {p * d // 100} = {ans} yuan.") if en else
                (f"一件外套原价{p}元，现在打{d}%的折扣（便宜{d}%），现价多少元？",
                 f"便宜了{p} × {d}% = {p * d // 100}元，现价是{p} - {p * d // 100} = {ans}元。"), ans)
    if kind == 3:
        n, k = rng.randint(3, 12), rng.randint(2, 9)
        ans = k
        return ((f"{n * k} pencils are shared equally among {n} students. How many pencils does each student get?",
                 f"{n * k} ÷ {n} = {ans}.") if en else
                (f"把{n * k}支铅笔平均分给{n}个学生，每个学生分到几支？", f"{n * k} ÷ {n} = {ans}。"), ans)
    if kind == 4:
        a, k, y = rng.randint(5, 12), rng.randint(3, 5), rng.randint(2, 10)
        ans = a * k + y
        return ((f"{who} is {a} years old, and {who}'s grandmother is {k} times as old. How old will the grandmother be in {y} years?",
                 f"The grandmother is {a} × {k} = {a * k} now, and {a * k} + {y} = {ans}.") if en else
                (f"{who}今年{a}岁，奶奶的年龄是{who}的{k}倍。{y}年后奶奶多少岁？",
                 f"奶奶现在{a} × {k} = {a * k}岁，{a * k} + {y} = {ans}。"), ans)
    if kind == 5:
        w, h = rng.randint(3, 25), rng.randint(3, 25)
        ans = 2 * (w + h)
        return ((f"A rectangular garden is {w} m long and {h} m wide. How many metres of fence go around it?",
                 f"Perimeter = 2 × ({w} + {h}) = {ans} m.") if en else
                (f"一个长方形菜园长{w}米、宽{h}米，围一圈篱笆需要多少米？", f"周长 = 2 × ({w} + {h}) = {ans}米。"), ans)
    if kind == 6:
        s, k = rng.randint(2, 12) * 5, rng.randint(4, 20)
        ans = k
        return ((f"{who} saves {s} yuan every week. How many weeks does it take to save {s * k} yuan?",
                 f"{s * k} ÷ {s} = {ans} weeks.") if en else
                (f"{who}每周存{s}元，存够{s * k}元需要多少周？", f"{s * k} ÷ {s} = {ans}周。"), ans)
    c, a, b = rng.randint(20, 60) * 10, rng.randint(20, 90), rng.randint(20, 90)
    ans = c - a - b
    return ((f"A water tank holds {c} litres. {a} litres are used in the morning and {b} litres in the afternoon. How many litres are left?",
             f"{a} + {b} = {a + b} litres were used, and {c} - {a + b} = {ans}.") if en else
            (f"一个水箱装有{c}升水，上午用了{a}升，下午用了{b}升，还剩多少升？",
             f"一共用了{a} + {b} = {a + b}升，{c} - {a + b} = {ans}。"), ans)


@dataclass
class Math(BuiltinTask):
    templates = TEMPLATES
    reference_model = MathReference  # the fields score() reads
    metric: str = "gsm8k exact match"  # metrics.gsm8k: #### strict, then the marked answer, then flexible

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        (problem, working), ans = content_math.draw(rng, lang, held_out, _problem)
        answer = f"{working}\nAnswer: {ans}" if lang == "en" else f"{working}\n答案：{ans}"
        return self.build([template.format(p=problem), answer], lang=lang, template=template_id,
                          held_out=held_out, reference={"answer": answer, "value": ans})

    def score(self, output, record):
        return matchers.numeric_match(output, record["reference"]["value"])

    def format_violations(self, output, record):
        problems = formats.check_answer_text(output, self.answer_lang(record), plain=False)
        if problems == ["empty_output"]:
            return problems
        if matchers.final_number(output) is None:
            problems.append("no_final_answer")
        return problems

    def output_likeness(self, output):
        # Working (operators, "=") ending in a number, often after "Answer:" / "答案".
        text = output.strip()
        if not text or formats.extract_code(text)[0]:
            return 0.0
        has_ops = bool(re.search(r"\d\s*[-+×÷*/]\s*\d", text)) + bool(re.search(r"=\s*\d", text))
        marker = bool(re.search(r"answer|答案", text, re.I))
        ends_number = bool(re.search(r"\d[^\d\n]{0,6}$", text))
        return min(1.0, 0.25 * has_ops + 0.3 * marker + 0.2 * ends_number)

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        material = draw.material
        statements = [x for x in sentences(material, draw.lang) if not re.search(r"[?？]$", x)] or [material]
        restated = Crossed(draw.pick("summary_lead") + joiner(draw.lang).join(statements), "summarization",
                           "problem_restated")
        nums = NUMBER.findall(material)[:3] or ["1"]
        var, value = ", ".join("abc"[: len(nums)]), draw.reference["value"]
        code = draw.rng.choice([f"```python\n{var} = {', '.join(nums)}\nresult = {value}\nprint(result)\n```",
                                f"```python\ndef solve():\n    {var} = {', '.join(nums)}\n    return {value}\n\nprint(solve())\n```"])
        return [restated, Crossed(code, "code", "solved_as_code"), draw.translated_request()]

    def weak_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        # A poor attempt restates one fact of the problem with a number worked out wrong: still math (the
        # whole problem restated under a lead is the summary crossing above).
        statements = [x for x in sentences(draw.material, draw.lang) if NUMBER.search(x) and not re.search(r"[?？]$", x)]
        weak = weak_outputs(self, draw)
        if statements:
            line = NUMBER.sub(lambda m: str(int(float(m.group()) + draw.rng.randint(1, 9))), draw.rng.choice(statements), count=1)
            weak.append(Crossed(line, self.name, "restated_wrong"))
        return weak


TASK = Math(
    name="math",
    description={"en": "Solve an arithmetic word problem, showing the working and the final answer.",
                 "zh": "解答算术应用题，写出计算过程和最终答案。"},
    signals={"en": [r"\bhow (?:many|much)\b", r"\bsolve\b", r"\bword problem\b", r"\d+\s*(?:km|yuan|%|litres|metres)"],
             "zh": [r"多少", r"应用题", r"算一算|计算", r"\d+(?:元|千米|米|升|岁)"]},
    family="reasoning",
)
