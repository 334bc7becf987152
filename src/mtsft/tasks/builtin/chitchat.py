"""chitchat: friendly small talk over one to three turns; constraint checks on the last reply
(stays on topic, right language, conversational length, plain text)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from mtsft.tasks import formats, relevance, matchers
from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import ReplyReference
from mtsft.tasks.crossing import Crossed, CrossingDraw

# topic: opener facts, reply, follow-up question and its reply; {city}/{n} vary; keyword must be in the reply
TOPICS = [
    {"key": ("weekend", "周末"),
     "say": ("I'm going to {city} this weekend", "这个周末我要去{city}"),
     "reply": ("That sounds like a lovely weekend! Have you planned what to see in {city}?", "听起来是个很棒的周末！你打算在{city}看些什么？"),
     "follow": ("Not yet, any tips for a short weekend trip?", "还没想好，周末短途旅行有什么建议吗？"),
     "reply2": ("For a short weekend trip, pick two or three places and leave time to simply wander.", "周末短途旅行的话，选两三个地方就好，留点时间随便逛逛。")},
    {"key": ("puppy", "小狗"),
     "say": ("we just adopted a puppy, she's {n} weeks old", "我们刚领养了一只小狗，才{n}周大"),
     "reply": ("Congratulations on the new puppy! At that age she must be full of energy.", "恭喜你们有了小狗！这么小的时候一定特别有活力。"),
     "follow": ("She chews everything though. Is that normal?", "可她什么都咬，这正常吗？"),
     "reply2": ("Yes, chewing is normal for a puppy; give her chew toys and praise her when she uses them.", "正常的，小狗都爱咬东西；给她准备磨牙玩具，她用的时候就夸夸她。")},
    {"key": ("tired", "累"),
     "say": ("I'm so tired, I worked {n} hours today", "我好累，今天工作了{n}个小时"),
     "reply": ("That's a long day, no wonder you feel tired. Can you rest a bit this evening?", "工作这么久，难怪你觉得累。今晚能好好休息一下吗？"),
     "follow": ("I'll try. I still have to cook dinner though.", "尽量吧，不过还得做晚饭。"),
     "reply2": ("When you're this tired, keep dinner simple tonight; noodles and an egg are enough.", "这么累的时候晚饭就简单点，煮碗面加个蛋就够了。")},
    {"key": ("movie", "电影"),
     "say": ("I watched a great movie last night", "我昨晚看了一部很棒的电影"),
     "reply": ("Nice! What was the movie about? I love hearing about good films.", "真好！那部电影讲的是什么？我很喜欢听别人聊好电影。"),
     "follow": ("It was about a family running a small {shop}.", "讲的是一家人经营一家小{shop}的故事。"),
     "reply2": ("A movie about a family {shop} sounds warm and funny; I'd like to see it too.", "一部关于家庭{shop}的电影，听起来又温馨又有趣，我也想看看。")},
    {"key": ("Chinese", "英语"),
     "say": ("I started learning Chinese {n} months ago", "我{n}个月前开始学英语"),
     "reply": ("That's great! How is learning Chinese going so far?", "太棒了！英语学得怎么样了？"),
     "follow": ("Slowly. Speaking is the hardest part.", "进步很慢，口语最难。"),
     "reply2": ("Speaking Chinese gets easier with practice; try talking for five minutes every day.", "说英语多练就会越来越顺，试试每天开口说五分钟。")},
    {"key": ("rain", "雨"),
     "say": ("it has rained in {city} for {n} days", "{city}已经连续下了{n}天雨了"),
     "reply": ("That much rain can really get you down. Are you staying dry?", "下这么多天雨，真让人有点烦闷。你还好吗，没淋湿吧？"),
     "follow": ("Yes, but I miss the sun.", "还好，就是想念太阳。"),
     "reply2": ("The rain should stop soon; until then, a warm drink and a good book can help.", "雨总会停的；在那之前，来杯热饮、读本好书也不错。")},
    {"key": ("exam", "考试"),
     "say": ("I have an exam in {n} days and I'm nervous", "我{n}天后有考试，好紧张"),
     "reply": ("Feeling nervous before an exam is normal. Which subject is it?", "考试前紧张很正常。考的是哪一科？"),
     "follow": ("History. There's so much to remember.", "历史，要记的东西太多了。"),
     "reply2": ("For a history exam, try drawing a simple timeline; it makes the dates easier to remember.", "准备历史考试可以画一条简单的时间线，年代会更好记。")},
]
# more topics of the same shape in content/chitchat_topics.jsonl: the keyword appears in both replies, in
# each language; {city} {n} {shop} are filled from the shared tables
ALL_TOPICS = TOPICS + content.rows("chitchat_topics")
OPENERS = {"en": ["Hi! {s}.", "Hey, guess what? {s}!", "Hello there. {s}.", "{s}, just wanted to tell someone.",
                  "Good evening! {s}.", "You know what, {s}.", "Hi, how are you? {s}.", "Morning! {s}.",
                  "So... {s}. What do you think?", "Honestly, {s}."],
           "zh": ["嗨！{s}。", "嘿，你猜怎么着？{s}！", "你好呀。{s}。", "{s}，就是想找人说说。", "晚上好！{s}。", "跟你说，{s}。",
                  "你好，最近怎么样？{s}。", "早上好！{s}。", "那个……{s}。你觉得呢？", "说实话，{s}。"]}


@dataclass
class Chitchat(BuiltinTask):
    templates = OPENERS
    reference_model = ReplyReference  # the fields score() reads

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        topic = P.choose(rng, ALL_TOPICS, held_out)  # held-out topics never appear in training
        i = lang == "zh"
        slots = {"city": P.choose(rng, T.CITIES, held_out, lang), "n": rng.randint(2, 12),
                 "shop": P.choose(rng, T.SHOPS, held_out, lang)}
        say = topic["say"][i].format(**slots)
        say = say[0].upper() + say[1:] if lang == "en" else say
        turns = [template.format(s=say), topic["reply"][i].format(**slots)]
        if rng.random() < 0.4:  # a follow-up turn on the same topic
            turns += [topic["follow"][i].format(**slots), topic["reply2"][i].format(**slots)]
        lo, hi = (5, 40) if lang == "en" else (8, 60)
        return self.build(turns, lang=lang, template=template_id, held_out=held_out,
                          reference={"answer": turns[-1], "keywords": [topic["key"][i]], "min_len": lo, "max_len": hi})

    def score(self, output, record):
        """relevance x shape x quality. Relevance: content words shared with the user's last turn, the
        reference reply and the topic keyword (two or more: on topic), so a warm reply in other words counts
        and a generic one that fits any message does not; shape: language, length, plain text; quality:
        conversational function-word rate and no repetition. The user's turn echoed back is 0."""
        ref, lang = record["reference"], self.answer_lang(record)
        user = relevance.last_user(record)
        if relevance.is_echo(output, user) or relevance.is_echo(output, relevance.conversation(record)):
            return 0.0
        rel = relevance.anchored(output, user, ref.get("answer", ""), *ref.get("keywords", []), need=2.0)
        plain = float(not formats.has_markdown(output) and not matchers.list_items(output)
                      and not formats.extract_code(output)[0] and formats.json_likeness(output) == 0)
        shape = (matchers.language_ok(output, lang) + matchers.length_ok(output, lang, ref["min_len"], ref["max_len"]) + plain) / 3
        return rel * shape * relevance.fluency(output) * relevance.non_degenerate(output)

    def format_violations(self, output, record):
        problems = formats.check_not_empty(output)
        if problems:
            return problems
        ref, lang = record["reference"], self.answer_lang(record)
        problems = formats.check_language(output, lang) + formats.check_plain_text(output)
        if not matchers.length_ok(output, lang, ref["min_len"], ref["max_len"]):
            problems.append("wrong_length")
        return problems

    def output_likeness(self, output):
        # A short, warm reply addressed to the user: "you"/"你", exclamations, questions back.
        text = output.strip()
        if not text or "\n" in text or formats.has_markdown(text):
            return 0.0
        low = text.lower()
        personal = any(w in low.split() for w in ("you", "your", "you're", "i'd", "i")) or "你" in text
        warm = any(c in text for c in "!！?？") or any(w in low for w in ("sounds", "congrat", "听起来", "恭喜", "真好", "太棒"))
        return 0.2 + 0.35 * personal + 0.3 * warm if formats.n_sentences(text) <= 3 else 0.1

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        k = (draw.reference.get("keywords") or ["it"])[0]
        pool = draw.pool("tip_items")
        tips = draw.rng.sample(pool, k=min(draw.rng.choice([3, 4]), len(pool)))
        listing = draw.pick("tips") + "\n" + "\n".join(f"{i}. {t.format(k=k)}" for i, t in enumerate(tips, 1))
        return [Crossed(relevance.last_user(draw.other), "translation", "translated_message"),
                Crossed(listing, "brainstorming", "listed_tips")]


TASK = Chitchat(
    name="chitchat",
    description={"en": "Friendly small talk: short, warm, on-topic replies.", "zh": "日常闲聊：简短、友好、贴合话题的回复。"},
    signals={"en": [r"^(?:hi|hey|hello|good (?:morning|evening))\b", r"\bguess what\b", r"\bhow are you\b", r"\bjust wanted to tell\b"],
             "zh": [r"^(?:嗨|嘿|你好|早上好|晚上好)", r"你猜", r"最近怎么样", r"想找人说说"]},
    family="open",
    multi_turn=True,
    metric="reply check: relevance x shape x fluency",
)
