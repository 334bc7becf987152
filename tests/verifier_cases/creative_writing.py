"""creative_writing: a four-line poem or a very short story on a topic using two given words. A keyword
salad, an off-topic poem or one line repeated must not pass; a titled poem or a story in other words must."""

from __future__ import annotations

import random

from mtsft import tasks
from mtsft.tasks.relevance import last_user
from verifier_cases import Case

TASK = "creative_writing"


def _record(lang: str, topic: str, keywords: list[str], form: str) -> dict:
    task = tasks.get(TASK)
    for held_out in (False, True):
        rng = random.Random(f"cases-{TASK}-{lang}-{topic}-{form}")
        for _ in range(6000):
            r = task.generate(rng, lang, held_out=held_out)
            ref = r["reference"]
            if topic in last_user(r) and sorted(ref["keywords"]) == sorted(keywords) and ref["form"] == form:
                return r
    raise LookupError(f"{TASK}: no {lang} {form} about {topic!r} with {keywords}")


EN_POEM = _record("en", "the sea", ["waves", "lighthouse"], "poem")
ZH_POEM = _record("zh", "大海", ["海浪", "灯塔"], "poem")
EN_STORY = _record("en", "an old friend", ["letter", "train"], "story")
ZH_STORY = _record("zh", "老朋友", ["信", "火车"], "story")

G, V = "gaming", "valid"
CASES = [
    # ---- gaming -----------------------------------------------------------------------------------
    Case(TASK, "keyword salad (en)", G, EN_POEM,
         "waves lighthouse sea\nlighthouse waves sea\nsea waves lighthouse\nwaves sea lighthouse"),
    Case(TASK, "keyword salad (zh)", G, ZH_POEM, "海浪灯塔大海\n灯塔海浪大海\n大海海浪灯塔\n海浪大海灯塔"),
    Case(TASK, "keyword salad, one line (en)", G, EN_STORY,
         "letter train old friend letter train friend old letter train. letter train friend."),
    Case(TASK, "topic words in a list (zh)", G, ZH_STORY, "1. 老朋友\n2. 信\n3. 火车\n4. 照片"),
    Case(TASK, "off-topic fluent poem (en)", G, EN_POEM,
         "The office lights go dim at six,\nthe printer hums a tired tune;\nI file the last report and leave,\nbeneath a quiet city moon."),
    Case(TASK, "off-topic fluent story (zh)", G, ZH_STORY,
         "周一早上，公司召开了季度会议。经理介绍了新的报销流程，大家认真做了笔记。会议结束后，每个人都回到工位继续工作。"),
    Case(TASK, "prompt echoed (en)", G, EN_POEM, last_user(EN_POEM)),
    Case(TASK, "prompt echoed (zh)", G, ZH_STORY, last_user(ZH_STORY)),
    Case(TASK, "one line repeated (en)", G, EN_POEM, "\n".join(["The waves roll by the lighthouse on the sea,"] * 4)),
    Case(TASK, "one line repeated (zh)", G, ZH_POEM, "\n".join(["海浪拍打着大海边的灯塔，"] * 4)),
    Case(TASK, "keywords stuffed into one sentence repeated (en)", G, EN_STORY,
         "My old friend sent a letter on the train. My old friend sent a letter on the train. "
         "My old friend sent a letter on the train."),
    Case(TASK, "meta-text about the request (en)", G, EN_POEM,
         "Here are the waves, as you asked.\nHere is a lighthouse, as you asked.\nThis is a poem about the sea for you.\n"
         "I hope that this is what you wanted."),
    Case(TASK, "meta-text about the request (zh)", G, ZH_POEM,
         "这里有海浪，按你的要求。\n这里有灯塔，按你的要求。\n这是一首关于大海的诗。\n希望这就是你想要的。"),
    # ---- valid --------------------------------------------------------------------------------------
    Case(TASK, "poem with a title (en)", V, EN_POEM,
         "Night Watch\nThe waves roll in beneath a silver sky,\nthe lighthouse sweeps its arm across the bay;\n"
         "I count the gulls as fishing boats go by,\nand let the sea wash all my cares away."),
    Case(TASK, "poem with a markdown title (en)", V, EN_POEM,
         "**The Keeper**\n\nAll night the lighthouse keeps its patient eye\non waves that whisper secrets to the shore;\n"
         "the sea breathes slow beneath a starless sky,\nand I am home, and wish for nothing more."),
    Case(TASK, "poem with a title (zh)", V, ZH_POEM,
         "《守望》\n海浪轻轻拍打着岸边的礁石，\n灯塔在夜色里亮起温暖的光；\n渔船慢慢驶回安静的港口，\n大海把所有心事都悄悄收藏。"),
    Case(TASK, "poem in other words, no title (zh)", V, ZH_POEM,
         "夜里的大海翻着白色的海浪，\n远方的灯塔一闪一闪地守望；\n我把思念写进咸咸的海风，\n等天亮时随潮水流向远方。"),
    Case(TASK, "story in other words (en)", V, EN_STORY,
         "When the letter arrived, Tom knew the handwriting at once: it was from Sam, his oldest friend. "
         "They had not spoken in ten years. Sam wrote that he would be on the morning train on Saturday. "
         "Tom reached the station an hour early, and when the doors opened they both laughed like boys again."),
    Case(TASK, "story in other words (zh)", V, ZH_STORY,
         "那天我收到一封信，字迹一眼就认得出来，是多年未见的老朋友写的。他说下周要坐火车来看我。"
         "那天我早早到了车站，车门一开，我们相视一笑，好像从来没有分开过。"),
    Case(TASK, "keywords in another form (en)", V, EN_STORY,
         "For years my old friend and I wrote letters instead of calling. Last spring he finally took the "
         "night train to my town, carrying every one of my letters in a shoebox. We read them aloud and laughed until dawn."),
]
