"""chitchat: a short, warm, on-topic reply to the last user turn. The keyword repeated, a generic reply that
fits any message, the user's words echoed or fluent off-topic text must not pass; a warm reply that stays on
topic without the exact keyword must."""

from __future__ import annotations

import random

from mtsft import tasks
from mtsft.tasks.relevance import last_user
from verifier_cases import Case

TASK = "chitchat"


def _record(lang: str, needle: str, turns: int) -> dict:
    task = tasks.get(TASK)
    for held_out in (False, True):
        rng = random.Random(f"cases-{TASK}-{lang}-{needle}-{turns}")
        for _ in range(4000):
            r = task.generate(rng, lang, held_out=held_out)
            if len(r["messages"]) == 2 * turns and needle in r["messages"][0]["content"]:
                return r
    raise LookupError(f"{TASK}: no {lang} {turns}-turn record about {needle!r}")


EN = _record("en", "puppy", 1)
ZH = _record("zh", "小狗", 1)
EN_EXAM = _record("en", "exam", 2)   # second turn: "History. There's so much to remember."
ZH_EXAM = _record("zh", "考试", 2)

G, V = "gaming", "valid"
CASES = [
    Case(TASK, "keyword repeated (en)", G, EN, "puppy puppy puppy puppy puppy"),
    Case(TASK, "keyword repeated (zh)", G, ZH, "小狗小狗小狗小狗小狗"),
    Case(TASK, "keyword repeated with punctuation (en)", G, EN, "Puppy! Puppy, puppy. Puppy puppy puppy!"),
    Case(TASK, "keyword list (zh)", G, ZH, "小狗，狗狗，宠物，可爱，领养"),
    Case(TASK, "user turn echoed (en)", G, EN, last_user(EN)),
    Case(TASK, "user turn echoed (zh)", G, ZH_EXAM, last_user(ZH_EXAM)),
    Case(TASK, "generic reply (en)", G, EN, "That's interesting! Tell me more about it."),
    Case(TASK, "generic reply (zh)", G, ZH, "真有意思！多跟我说说吧。"),
    Case(TASK, "off-topic fluent (en)", G, EN_EXAM, "The airport train leaves every twenty minutes from platform three."),
    Case(TASK, "off-topic fluent (zh)", G, ZH, "明天上午九点，地铁二号线将暂停运营两个小时进行检修。"),
    Case(TASK, "one line repeated (en)", G, EN_EXAM, "\n".join(["I love a puppy and an exam!"] * 5)),
    Case(TASK, "one line repeated (zh)", G, ZH, "\n".join(["恭喜你们有了小狗！"] * 5)),
    # ---- valid --------------------------------------------------------------------------------------
    Case(TASK, "warm reply without the keyword (en)", V, EN,
         "Congratulations! She must be tiny and full of energy at that age. Have you picked a name for her yet?"),
    Case(TASK, "warm reply without the keyword (zh)", V, ZH, "恭喜恭喜！这么小一定特别可爱又活泼吧？给她起名字了吗？"),
    Case(TASK, "warm reply with the keyword (en)", V, EN, "A new puppy, how exciting! Is she sleeping through the night yet?"),
    Case(TASK, "follow-up reply in other words (en)", V, EN_EXAM,
         "History does have a lot of dates! Try making a timeline and quizzing yourself with flashcards each day."),
    Case(TASK, "follow-up reply in other words (zh)", V, ZH_EXAM, "历史确实要背很多年代，可以画个时间线，每天复习一点就好记多了。"),
]
