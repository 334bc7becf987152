"""creative_writing: a short poem or story on a topic that must use given keywords; constraint checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mtsft.tasks import formats, relevance, matchers
from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import WritingReference
from mtsft.tasks.crossing import Crossed, CrossingDraw, clauses

# topic -> keywords, parallel (en, zh)
TOPICS = [
    (("the sea", "大海"), [("waves", "海浪"), ("lighthouse", "灯塔"), ("salt", "咸"), ("gulls", "海鸥"), ("tide", "潮水")]),
    (("autumn", "秋天"), [("leaves", "落叶"), ("harvest", "丰收"), ("wind", "秋风"), ("geese", "大雁"), ("moon", "月亮")]),
    (("a rainy city night", "雨夜的城市"), [("umbrella", "雨伞"), ("neon", "霓虹"), ("puddles", "水洼"), ("taxi", "出租车"), ("window", "窗")]),
    (("the mountains", "高山"), [("snow", "积雪"), ("pine", "松树"), ("eagle", "雄鹰"), ("path", "小路"), ("clouds", "云海")]),
    (("an old friend", "老朋友"), [("letter", "信"), ("laughter", "笑声"), ("train", "火车"), ("photo", "照片"), ("tea", "茶")]),
    (("home", "家"), [("kitchen", "厨房"), ("lamp", "灯"), ("door", "门"), ("mother", "母亲"), ("garden", "院子")]),
]
POEM_LINES = {
    "en": ["I walk with {topic} in my mind tonight,", "and {k1} keep the quiet hours bright;",
           "somewhere a {k2} waits for me to stay,", "until the morning carries me away."],
    "zh": ["今夜我心里装着{topic}，", "{k1}把安静的时光照亮；", "远处的{k2}在等我停留，", "直到清晨把我带向远方。"],
}
STORY = {
    "en": ("Mei had not thought about {topic} for years. Then one evening a small thing reminded her of {k1}, and a "
           "memory came back all at once. She sat by the window and thought about {k2}, and everything felt closer "
           "than she expected. When the night ended, she was smiling."),
    "zh": ("梅已经很多年没有想起{topic}了。一天傍晚，一件小事让她想起了{k1}，往事一下子涌上心头。她坐在窗边，"
           "又想到了{k2}，一切都比想象中更近。夜深时，她的脸上带着笑。"),
}
# more of each in content/creative_*.jsonl: topics with keyword pools, four-line poem skeletons and very short
# story skeletons, each over {topic} {k1} {k2}
ALL_TOPICS = TOPICS + content.rows("creative_topics")
POEMS, STORIES = [POEM_LINES, *content.rows("creative_poems")], [STORY, *content.rows("creative_stories")]

TEMPLATES = {
    "en": ["Write a {form} about {topic} that uses the words \"{k1}\" and \"{k2}\".",
           "Compose a {form} on {topic}. Include: {k1}, {k2}.", "Could you write me a {form} about {topic}? Mention {k1} and {k2}.",
           "Creative task: a {form} about {topic}, with the words {k1} and {k2} in it.",
           "I'd love a {form} about {topic}; please work in \"{k1}\" and \"{k2}\".", "Write a {form}. Topic: {topic}. Must use: {k1}, {k2}.",
           "Let's be creative: a {form} about {topic} featuring {k1} and {k2}.", "Please write an original {form} about {topic} using {k1} and {k2}.",
           "For my writing club, draft a {form} about {topic} where {k1} and {k2} both appear.",
           "Surprise me with a {form} about {topic}; it has to contain \"{k1}\" and \"{k2}\"."],
    "zh": ["以{topic}为主题写{form}，要用到“{k1}”和“{k2}”。", "创作{form}，题目是{topic}，包含：{k1}、{k2}。",
           "能给我写{form}吗？写{topic}，提到{k1}和{k2}。", "创作任务：{form}，主题{topic}，里面要有{k1}和{k2}。",
           "我想要{form}，写{topic}的，请用上“{k1}”和“{k2}”。", "写{form}。主题：{topic}。必须用到：{k1}、{k2}。",
           "来点创意：围绕{topic}写{form}，出现{k1}和{k2}。", "请原创{form}，关于{topic}，用到{k1}和{k2}。",
           "给我们写作社写{form}，关于{topic}，{k1}和{k2}都要出现。", "给我个惊喜：关于{topic}的{form}，必须包含“{k1}”和“{k2}”。"],
}
FORMS = {"poem": {"en": "four-line poem", "zh": "一首四行诗"}, "story": {"en": "very short story", "zh": "一篇微型小说"}}


_TITLE = re.compile(r"^\s*(?:#{1,3}\s*\S.*|\*\*[^*]+\*\*|《[^》]+》|(?:title|题目|标题)\s*[:：].*)\s*$", re.I)


def _without_title(output: str) -> str:
    """The poem or story without a title line: a markdown heading, **bold**, 《书名》 or "Title: ...", or a
    short first line without sentence punctuation followed by the text."""
    lines = output.strip().splitlines()
    if len(lines) < 2:
        return output
    first = lines[0].strip()
    short = relevance.length(first) <= 8 and not re.search(r"[,.;:!?，。；：！？、]$", first)
    if _TITLE.match(first) or (short and not lines[1].strip()):
        return "\n".join(lines[1:]).strip()
    if short and len([ln for ln in lines if ln.strip()]) == 5:  # a title over four lines of verse
        return "\n".join(lines[1:]).strip()
    return output


def keyword_coverage(text: str, keywords: list[str]) -> float:
    """Share of the required words present, in any inflection ("letters" for "letter", "gull" for "gulls")."""
    if not keywords:
        return 1.0
    return sum(relevance.has_word(text, k) for k in keywords) / len(keywords)


@dataclass
class CreativeWriting(BuiltinTask):
    templates = TEMPLATES
    reference_model = WritingReference  # the fields score() reads

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        (topic_en, topic_zh), pool = P.choose(rng, ALL_TOPICS, held_out)  # held-out topics and skeletons
        topic = topic_en if lang == "en" else topic_zh
        k1, k2 = (pair[lang == "zh"] for pair in rng.sample(pool, 2))
        form = rng.choice(["poem", "story"])
        form_text = FORMS[form][lang]
        prompt = template.format(form=form_text, topic=topic, k1=k1, k2=k2)
        if form == "poem":
            answer = "\n".join(line.format(topic=topic, k1=k1, k2=k2) for line in P.choose(rng, POEMS, held_out, lang))
        else:
            answer = P.choose(rng, STORIES, held_out, lang).format(topic=topic, k1=k1, k2=k2)
        lo, hi = (15, 120) if lang == "en" else (20, 250)
        return self.build([prompt, answer], lang=lang, template=template_id, held_out=held_out,
                          reference={"answer": answer, "form": form, "keywords": [k1, k2],
                                     "lines": 4 if form == "poem" else None, "min_len": lo, "max_len": hi})

    def score(self, output, record):
        """relevance x constraints x quality. Relevance: the required words (any inflection) and the topic;
        constraints: form (a title line allowed), length, language; novelty: at least 65% of the content
        (by unit weight) is not the prompt's (none under 35%; references and real verse add 70-90%); quality: the function-word rate of verse or
        prose (a keyword salad has none) and no repeated lines or n-grams. The prompt echoed is 0."""
        prompt = relevance.last_user(record)
        if relevance.is_echo(output, prompt):
            return 0.0
        body = _without_title(output)
        coverage = keyword_coverage(body, record["reference"]["keywords"])
        topic = relevance.template_slot(prompt, TEMPLATES) or ""
        topical = coverage == 1 or (topic and relevance.anchors(body, topic) >= min(0.6, relevance.weight(topic) / 2))
        # the required words are the instruction's one hard constraint: none of them, nothing; they earn
        # nothing by themselves either (a salad of them fails fluency and novelty below)
        rel = (2 * coverage + float(bool(topical))) / 3 if coverage else 0.0
        constraints = sum(self._constraints(output, record).values()) / 3
        # what the text adds beyond the prompt's words: a poem is more than its topic and required words
        total = relevance.weight(body)
        added = sum(relevance.unit_weight(u) for u in relevance.novel_units(body, prompt)) / total if total else 0.0
        novelty = max(0.0, min(1.0, (added - 0.35) / 0.3))
        return rel * constraints * novelty * relevance.fluency(body) * relevance.non_degenerate(body)

    def _constraints(self, output: str, record: dict) -> dict[str, float]:
        ref, lang = record["reference"], self.answer_lang(record)
        output = _without_title(output)
        lines = [line for line in output.splitlines() if line.strip()]
        if ref["form"] == "poem":
            form_ok = float(len(lines) == ref["lines"] and not matchers.list_items(output))
        else:
            form_ok = float(formats.n_sentences(output) >= 2 and len(lines) <= 3 and not formats.has_markdown(output))
        return {"form": form_ok, "length": matchers.length_ok(output, lang, ref["min_len"], ref["max_len"]),
                "language": matchers.language_ok(output, lang)}

    def format_violations(self, output, record):
        problems = formats.check_not_empty(output)
        if problems:
            return problems
        checks = self._constraints(output, record)
        problems = formats.check_language(output, self.answer_lang(record))
        if not checks["form"]:
            problems.append("wrong_line_count" if record["reference"]["form"] == "poem" else "not_a_story")
        if not checks["length"]:
            problems.append("wrong_length")
        if keyword_coverage(_without_title(output), record["reference"]["keywords"]) < 1:
            problems.append("missing_keywords")
        return problems

    def output_likeness(self, output):
        # Verse (several short lines, no numbering) or a narrative paragraph of several sentences.
        text = output.strip()
        if not text or formats.has_markdown(text) or matchers.list_items(text) or formats.extract_code(text)[0]:
            return 0.0
        lines = [line for line in text.splitlines() if line.strip()]
        if 3 <= len(lines) <= 16 and all(len(line) < 80 for line in lines):
            return 0.85
        return 0.6 if formats.n_sentences(text) >= 4 else 0.1

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        kws = list(draw.reference.get("keywords") or []) + ["", ""]
        head = draw.pick("write_ideas")
        ideas = [f"{i}. {c}" for i, c in enumerate(clauses(draw.material)[:3] + [k for k in kws if k], 1)]
        how = draw.pick("explain_write").format(k1=kws[0] or "it", k2=kws[1] or kws[0] or "it")
        return [Crossed(head + "\n" + "\n".join(ideas), "brainstorming", "ideas_instead"),
                Crossed(how, "open_qa", "explained_how"), draw.translated_request()]


TASK = CreativeWriting(
    name="creative_writing",
    description={"en": "Write a short poem or story on a topic, using required words.",
                 "zh": "围绕主题写一首短诗或一篇微型小说，并用上指定词语。"},
    signals={"en": [r"\bpoem\b", r"\bstory\b", r"\bcompose\b", r"\bcreative\b", r"\bwrit\w+ (?:a|an|me a) (?:\w+ )*(?:poem|story)\b"],
             "zh": [r"诗", r"小说|故事", r"创作", r"写一(?:首|篇)"]},
    family="open",
    metric="constraints: keywords, form, fluency",
)
