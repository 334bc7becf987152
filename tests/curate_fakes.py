"""A tiny stand-in task registry for the curation tests, so they assert the rounds' behaviour and do not
depend on the built-in tasks' exact templates."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import pytest

from mtsft.records import make_record
from mtsft.tasks.base import Task

COLORS = ["red", "blue", "green", "yellow", "purple", "orange", "black", "white"]
ZH_COLORS = ["红色", "蓝色", "绿色", "黄色", "紫色", "橙色", "黑色", "白色"]


@dataclass
class SentimentTask(Task):
    def generate(self, rng, lang, *, held_out=False):
        i = rng.randrange(len(COLORS))
        good = rng.random() < 0.5
        if lang == "zh":
            p = f"判断下面评论的情感（正面或负面）：我很{'喜欢' if good else '讨厌'}这件{ZH_COLORS[i]}的衣服，编号{rng.randrange(10**6)}。"
            a = "正面" if good else "负面"
        else:
            p = f"Classify the sentiment (positive or negative): I {'love' if good else 'hate'} this {COLORS[i]} shirt, item {rng.randrange(10**6)}."
            a = "positive" if good else "negative"
        return make_record([{"role": "user", "content": p}, {"role": "assistant", "content": a}],
                           source="fake", task=self.name, lang=lang, reference=a)

    def score(self, output, record):
        return float(output.strip() == str(record["reference"]).strip())

    def format_violations(self, output, record):
        return [] if len(output) < 20 else ["not_a_label"]

    def output_likeness(self, output):
        return 1.0 if len(output.strip()) < 12 else 0.0


@dataclass
class CodeTask(Task):
    def generate(self, rng, lang, *, held_out=False):
        n = rng.randrange(2, 10**6)
        p = (f"写一个Python函数，返回输入乘以{n}的结果。" if lang == "zh"
             else f"Write a Python function that returns its input times {n}.")
        a = f"```python\ndef times_{n}(x):\n    return x * {n}\n```"
        return make_record([{"role": "user", "content": p}, {"role": "assistant", "content": a}],
                           source="fake", task=self.name, lang=lang, reference={"n": n})

    def score(self, output, record):
        return float(f"* {record['reference']['n']}" in output)

    def format_violations(self, output, record):
        if "```" not in output:
            return ["missing_code"]
        return ["prose_around_code"] if re.sub(r"```.*?```", "", output, flags=re.S).strip() else []

    def output_likeness(self, output):
        return 1.0 if "```" in output or "def " in output else 0.0


@dataclass
class IdeasTask(Task):
    def generate(self, rng, lang, *, held_out=False):
        topic = rng.choice(COLORS) + f" {rng.randrange(10**6)}"
        if lang == "zh":
            p = f"请列出三个关于主题{topic}的创意点子。"
            a = f"1. 用{topic}做一幅画。\n2. 用{topic}装饰房间。\n3. 写一首关于{topic}的诗。"
        else:
            p = f"Brainstorm three ideas about the theme {topic}."
            a = f"1. Paint a picture in {topic}.\n2. Decorate a room in {topic}.\n3. Write a poem about {topic}."
        return make_record([{"role": "user", "content": p}, {"role": "assistant", "content": a}],
                           source="fake", task=self.name, lang=lang)

    def score(self, output, record):
        return 1.0

    def format_violations(self, output, record):
        return []

    def output_likeness(self, output):
        return 1.0 if re.search(r"^\s*\d+\.", output, re.M) else 0.0


def make_tasks():
    return [
        SentimentTask("sentiment", {"en": "sentiment of a review", "zh": "评论情感"},
                      signals={"en": [r"\bsentiment\b"], "zh": ["情感"]}),
        CodeTask("coding", {"en": "write a function", "zh": "写函数"},
                 signals={"en": [r"\bfunction\b"], "zh": ["函数"]}),
        IdeasTask("ideas", {"en": "brainstorm ideas", "zh": "创意点子"},
                  signals={"en": [r"\bideas?\b"], "zh": ["点子"]}),
    ]


@pytest.fixture
def fake_registry(monkeypatch, tmp_path):
    """Replace the registry with the three fake tasks and give the classifier an empty cache."""
    import mtsft.tasks as registry
    from mtsft.data import classify, quality

    monkeypatch.setattr(registry, "_REGISTRY", {t.name: t for t in make_tasks()})
    monkeypatch.setattr(registry, "_loaded", True)
    monkeypatch.setenv("MTSFT_CACHE", str(tmp_path / "cache"))
    classify.load_classifier.cache_clear()
    quality.task_profiles.cache_clear()
    yield registry
    classify.load_classifier.cache_clear()
    quality.task_profiles.cache_clear()


def generate(n_per_task: dict[str, int], seed: int = 0, langs=("zh", "en")) -> list[dict]:
    """Clean records from the fake tasks, n per task, alternating languages; ids r0, r1, ..."""
    rng = random.Random(seed)
    tasks = {t.name: t for t in make_tasks()}
    out = []
    for name, n in n_per_task.items():
        for i in range(n):
            rec = tasks[name].generate(rng, langs[i % len(langs)])
            rec["id"] = f"r{len(out)}"
            out.append(rec)
    return out
