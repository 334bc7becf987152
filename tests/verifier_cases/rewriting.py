"""rewriting: the message in another style (formal; then shorter) with its meaning kept. The source handed
back (or barely touched), the prompt echoed, off-topic or boilerplate text and a rewrite that grows when asked
to shorten must not pass; a rewrite in other words that keeps the meaning must."""

from __future__ import annotations

import random

from mtsft import tasks
from mtsft.tasks.relevance import last_user
from verifier_cases import Case

TASK = "rewriting"


def _record(lang: str, needle: str, turns: int) -> dict:
    task = tasks.get(TASK)
    for held_out in (False, True):
        rng = random.Random(f"cases-{TASK}-{lang}-{needle}-{turns}")
        for _ in range(4000):
            r = task.generate(rng, lang, held_out=held_out)
            if needle in r["messages"][0]["content"] and len(r["messages"]) == 2 * turns:
                return r
    raise LookupError(f"{TASK}: no {lang} {turns}-turn record about {needle!r}")


EN = _record("en", "can't make it to the meeting", 1)
ZH = _record("zh", "明天的会我去不了了", 1)
EN_SHORT = _record("en", "printer's broken again", 2)   # formal -> shorter
ZH_SHORT = _record("zh", "打印机又坏了", 2)

G, V = "gaming", "valid"
CASES = [
    Case(TASK, "source handed back (en)", G, EN, EN["reference"]["source"]),
    Case(TASK, "source handed back (zh)", G, ZH, ZH["reference"]["source"]),
    Case(TASK, "source barely touched (en)", G, EN, "Hey, can't make it to the meeting tomorrow, something came up."),
    Case(TASK, "source barely touched (zh)", G, ZH, "明天的会我去不了了，临时有事。"),
    Case(TASK, "prompt echoed (en)", G, EN, last_user(EN)),
    Case(TASK, "prompt echoed (zh)", G, ZH, last_user(ZH)),
    Case(TASK, "off-topic formal text (en)", G, EN,
         "We are pleased to announce that the annual report is now available on the company intranet."),
    Case(TASK, "generic formal boilerplate (zh)", G, ZH, "感谢您的来信，我们会尽快处理并给予答复。"),
    Case(TASK, "reference repeated (en)", G, EN, " ".join([EN["reference"]["answer"]] * 3)),
    Case(TASK, "previous version handed back when asked to shorten (en)", G, EN_SHORT, EN_SHORT["reference"]["source"]),
    Case(TASK, "previous version handed back when asked to shorten (zh)", G, ZH_SHORT, ZH_SHORT["reference"]["source"]),
    Case(TASK, "grows when asked to shorten (en)", G, EN_SHORT,
         EN_SHORT["reference"]["source"] + " We would be very grateful for your prompt attention to this matter, "
                                           "as the printer is needed by the whole team every day."),
    # ---- valid --------------------------------------------------------------------------------------
    Case(TASK, "formal rewrite in other words (en)", V, EN,
         "Apologies, but an urgent matter has come up and I will be unable to attend the meeting tomorrow."),
    Case(TASK, "formal rewrite in other words (zh)", V, ZH, "抱歉，因临时有急事，明天的会议我无法出席。"),
    Case(TASK, "formal rewrite as an email (en)", V, EN,
         "Dear colleagues,\nI regret that I will not be able to attend tomorrow's meeting, as something urgent has come up.\n"
         "Kind regards"),
    Case(TASK, "shorter in other words (en)", V, EN_SHORT, "Please have the printer repaired."),
    Case(TASK, "shorter in other words (zh)", V, ZH_SHORT, "请尽快维修打印机。"),
]
