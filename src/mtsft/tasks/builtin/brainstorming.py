"""brainstorming: a numbered list of N distinct ideas on a topic; verified by constraint checks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from mtsft.tasks import formats, lists, relevance, matchers
from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask, numbered
from mtsft.tasks.references import ListReference
from mtsft.tasks.crossing import Crossed, CrossingDraw

# topic (en, zh) -> idea pool [(en, zh)]
IDEAS = [
    (("ways to save electricity at home", "在家节约用电的方法"),
     [("Turn off lights when leaving a room", "离开房间时关灯"), ("Unplug chargers that are not in use", "拔掉不用的充电器"),
      ("Use LED bulbs", "使用LED灯泡"), ("Wash clothes in cold water", "用冷水洗衣服"),
      ("Dry laundry on a line instead of a dryer", "晾晒衣服，不用烘干机"), ("Set the air conditioner one degree higher", "空调温度调高一度"),
      ("Use a power strip with a switch", "使用带开关的插线板"), ("Keep the fridge door closed", "少开冰箱门")]),
    (("names for a neighbourhood cafe", "社区咖啡馆的名字"),
     [("The Corner Cup", "街角杯"), ("Morning Steam", "晨雾咖啡"), ("Bean There", "豆在这里"), ("Slow Drip", "慢滴时光"),
      ("Neighbour's Brew", "邻家小煮"), ("The Reading Mug", "读书杯"), ("Little Roast", "小烘焙"), ("Window Seat", "靠窗座位")]),
    (("weekend activities for a family with small children", "有小孩的家庭周末活动"),
     [("Have a picnic in the park", "去公园野餐"), ("Visit a science museum", "参观科技馆"), ("Bake cookies together", "一起烤饼干"),
      ("Build a blanket fort", "用毯子搭城堡"), ("Go on a nature scavenger hunt", "去户外寻宝"), ("Plant seeds in pots", "在花盆里种种子"),
      ("Read stories at the library", "去图书馆读故事"), ("Ride bikes along the river", "沿河骑自行车")]),
    (("ways to stay focused while studying", "学习时保持专注的方法"),
     [("Put the phone in another room", "把手机放到另一个房间"), ("Study in 25-minute blocks", "每学25分钟休息一下"),
      ("Write a short goal for each session", "每次学习前写下小目标"), ("Keep the desk tidy", "保持书桌整洁"),
      ("Drink enough water", "多喝水"), ("Use noise-cancelling headphones", "戴降噪耳机"),
      ("Explain the topic aloud", "把知识点大声讲出来"), ("Take a short walk between sessions", "休息时散散步")]),
    (("gift ideas for a friend who loves cooking", "送给爱做饭的朋友的礼物"),
     [("A good chef's knife", "一把好厨刀"), ("A set of spices from different countries", "一套各国香料"),
      ("A cast-iron pan", "一口铸铁锅"), ("A cookbook of regional dishes", "一本地方菜谱"), ("A cooking class voucher", "烹饪课体验券"),
      ("A herb-growing kit", "香草种植套装"), ("A personalised apron", "定制围裙"), ("A kitchen scale", "厨房秤")]),
    (("ways to reduce plastic waste", "减少塑料垃圾的方法"),
     [("Carry a reusable shopping bag", "带可重复使用的购物袋"), ("Use a refillable water bottle", "使用可重复灌装的水杯"),
      ("Buy food in bulk", "散装购买食品"), ("Say no to plastic straws", "拒绝塑料吸管"), ("Bring your own container for takeaway", "自带外卖餐盒"),
      ("Choose bar soap over bottled soap", "用香皂代替瓶装洗手液"), ("Repair items instead of replacing them", "修理物品而不是换新"),
      ("Shop at markets with loose produce", "去散装蔬果市场购物")]),
    (("team-building activities for a small office", "小型办公室的团建活动"),
     [("A monthly potluck lunch", "每月一次百家宴午餐"), ("An escape room outing", "一起玩密室逃脱"), ("A volunteer day", "一起做志愿者"),
      ("A board game afternoon", "桌游下午"), ("A short hiking trip", "短途徒步"), ("A cooking competition", "厨艺比赛"),
      ("Lunchtime skill-sharing talks", "午间技能分享会"), ("A team photo walk", "团队摄影漫步")]),
    (("ideas for a school science fair project", "学校科技节的项目创意"),
     [("Test which paper towel absorbs the most water", "测试哪种纸巾吸水最多"), ("Build a simple water filter", "做一个简易净水器"),
      ("Grow plants under different light colours", "在不同颜色的光下种植物"), ("Make a lemon battery", "做一个柠檬电池"),
      ("Measure how fast ice melts with salt", "测量加盐后冰融化的速度"), ("Build a model wind turbine", "制作风力发电机模型"),
      ("Compare bridge designs made of straws", "比较吸管搭成的桥梁结构"), ("Track the phases of the moon", "记录月相变化")]),
]
IDEAS += content.rows("brainstorming_topics")  # 32 more (content/); partition.py holds some out of training

TEMPLATES = {
    "en": ["Give me {n} {topic}.", "List {n} {topic}.", "Brainstorm {n} {topic}, as a numbered list.",
           "I need ideas: {n} {topic}, please.", "Can you come up with {n} {topic}?", "Suggest {n} {topic}. Keep each one short.",
           "What are {n} good {topic}?", "Help me think of {n} {topic}.",
           "Throw out {n} {topic} for me, one per line.", "Quick list of {n} {topic}, numbered."],
    "zh": ["给我{n}个{topic}。", "列出{n}个{topic}。", "头脑风暴一下：{n}个{topic}，用编号列表。", "我需要点子：{n}个{topic}。",
           "你能想出{n}个{topic}吗？", "推荐{n}个{topic}，每条简短一些。", "有哪{n}个好的{topic}？", "帮我想{n}个{topic}。",
           "随便给我{n}个{topic}，每行一个。", "快速列一个{n}条的{topic}清单，带编号。"],
}


_ITEM = re.compile(r"^\s*(?:\(?\d{1,2}\s*[.)、．:：]|\(\d{1,2}\)|[\u2460-\u2473]|[一二三四五六七八九十]{1,3}\s*[、.．]|[-*•·–])\s*(\S.*)$")


def idea_items(output: str) -> list[str]:
    """The ideas of a list answer: numbered, bulleted, circled or Chinese-numeral items; failing those,
    two or more short plain lines (one idea per line). Markdown emphasis is dropped."""
    lines = [line for line in output.splitlines() if line.strip()]
    items = [m.group(1) for line in lines if (m := _ITEM.match(line))]
    if len(items) < 2 and len(lines) >= 2 and all(len(line) <= 120 and not line.rstrip().endswith((":", "：")) for line in lines):
        items = lines
    return [item.replace("**", "").replace("__", "").strip() for item in items]


def _pool(topic: str) -> list[str]:
    """The idea pool of the content-table topic named `topic` (both languages), if there is one."""
    wanted = topic.strip().lower()
    for row in IDEAS:
        try:
            (en, zh), pool = row
            if wanted in (en.lower(), zh):
                return [text for pair in pool for text in pair]
        except (TypeError, ValueError):
            continue
    return []


def _anchored(item: str, context: list[str], prompt: str) -> bool:
    """Whether `item` shares enough content with `context` (units of `prompt` not counted)."""
    own = relevance.novel_units(item, prompt) if prompt else relevance.units(item)
    shared = own & frozenset().union(*(relevance.units(c) for c in context if c))
    need = min(0.6, relevance.weight(item) / 2)
    return sum(relevance.unit_weight(u) for u in shared) >= need > 0 or (bool(shared) and need == 0)


def _count_score(count: int, n: int | None, prompt: str) -> float:
    """1 for the asked number of items, falling linearly with the distance from it. The reference's n is
    the ask; a record without one (imported, hand-written) is held to the count its prompt asks for, and
    to none when the prompt names no number."""
    low, high = (n, n) if n else (lists.requested_count(prompt) or (count, None))
    if lists.count_fits(count, (low, high)):
        return 1.0
    target = low if count < low else high
    return max(0.0, 1 - abs(count - target) / target)


def _distinct(items: list[str]) -> float:
    """Distinctness in [0, 1]: (distinct items - 1) / (items - 1), where an item that repeats or nearly
    repeats an earlier one (digits ignored) is not distinct; one item said n times scores 0."""
    kept: list[tuple[str, str]] = []  # (item, its normalised label), each label computed once
    for item in items:
        label = matchers.normalize_label(item)
        if not any(relevance.similarity(item, k) >= 0.8 or label == k_label for k, k_label in kept):
            kept.append((item, label))
    return (len(kept) - 1) / (len(items) - 1) if len(items) > 1 else 1.0


@dataclass
class Brainstorming(BuiltinTask):
    templates = TEMPLATES
    reference_model = ListReference  # the fields score() reads

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        (topic_en, topic_zh), pool = P.choose(rng, IDEAS, held_out)  # held-out topics never in training
        n = rng.randint(3, 8)
        ideas = [pair[lang == "zh"] for pair in rng.sample(pool, n)]
        answer = numbered(ideas)
        prompt = template.format(n=n, topic=topic_en if lang == "en" else topic_zh)
        return self.build([prompt, answer], lang=lang, template=template_id, held_out=held_out,
                          reference={"answer": answer, "n": n})

    def score(self, output, record):
        """count x distinct x relevance x language. Relevance: the share of items anchored to the topic
        (the reference ideas and the topic's idea pool, beyond the prompt's own words), full from 3 in 4;
        placeholders, repeats, the topic's words with filler and another topic's ideas are not anchored."""
        items = idea_items(output)
        if not items:
            return 0.0
        ref = record.get("reference") if isinstance(record.get("reference"), dict) else {}
        prompt = relevance.last_user(record)
        count = _count_score(len(items), ref.get("n"), prompt)
        topic = relevance.template_slot(prompt, TEMPLATES) or prompt
        pool = _pool(topic)
        # An item is on topic when it shares words with the reference ideas or the topic's idea pool beyond
        # the words of the prompt itself (the topic's own words plus filler are not an idea). Without a pool
        # (a record not drawn from the registry) the topic's words count too.
        context = [ref.get("answer", ""), *pool] + ([] if pool else [topic])
        bare = [re.sub(r"\d+", " ", item) for item in items]
        on_topic = sum(_anchored(b, context, prompt if pool else "") and bool(relevance.novel_units(b, prompt))
                       for b in bare)
        rel = max(0.0, min(1.0, (on_topic / len(items) - 0.25) / 0.5))  # full from 3 in 4 items
        distinct = _distinct(bare)
        lang_ok = matchers.language_ok(" ".join(items), self.answer_lang(record))
        return count * distinct * rel * (0.5 + 0.5 * lang_ok)

    def format_violations(self, output, record):
        """Not empty; a list of the asked length (the reference's n, or for records without one, imported or
        hand-written, the count the prompt asks for); in the answer's language."""
        ref = record.get("reference")
        n = ref.get("n") if isinstance(ref, dict) else None
        return (formats.check_not_empty(output) or
                formats.check_list(output, n, relevance.last_user(record)) + formats.check_language(output, self.answer_lang(record)))

    def output_likeness(self, output):
        return formats.list_likeness(output)

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        items = [re.sub(r"^\s*\d+[.、)]\s*", "", ln).strip() for ln in draw.reference["answer"].splitlines() if ln.strip()]
        items = (items + items)[:3]
        story = draw.pick("story").format(a=items[0], b=items[1], c=items[2])
        code = "```python\nideas = [\n" + "".join(f"    {json.dumps(i, ensure_ascii=False)},\n" for i in items) + \
            "]\nfor idea in ideas:\n    print(idea)\n```"
        return [Crossed(story, "creative_writing", "wrote_a_story"), Crossed(code, "code", "ideas_as_code"),
                draw.translated_request()]


TASK = Brainstorming(
    name="brainstorming",
    description={"en": "Come up with a given number of distinct ideas as a numbered list.",
                 "zh": "按要求的数量列出不同的点子（编号列表）。"},
    signals={"en": [r"\bbrainstorm\w*\b", r"\b(?:list|suggest|give me|come up with)\b.*\b\d+\b", r"\bideas?\b"],
             "zh": [r"头脑风暴", r"列出|推荐|想出?\d+个", r"点子|创意|清单"]},
    family="open",
    metric="list check: count x distinct x relevance",
)
