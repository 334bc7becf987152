"""brainstorming: a list of N ideas on a topic. Junk of the right length must not pass; the same ideas in
another list style, with explanations, or other on-topic ideas must."""

from __future__ import annotations

import random

from mtsft import tasks
from mtsft.records import response
from mtsft.tasks.relevance import last_user
from verifier_cases import Case

TASK = "brainstorming"


def _record(lang: str, needle: str, n: int) -> dict:
    """A registry record whose prompt mentions `needle` and asks for `n` ideas (training or held-out draws)."""
    task = tasks.get(TASK)
    for held_out in (False, True):
        rng = random.Random(f"cases-{TASK}-{lang}-{needle}")
        for _ in range(4000):
            r = task.generate(rng, lang, held_out=held_out)
            if needle in last_user(r) and r["reference"]["n"] == n:
                return r
    raise LookupError(f"{TASK}: no {lang} record about {needle!r} with n={n}")


def _items(record: dict) -> list[str]:
    return [line.split(". ", 1)[1] for line in response(record).splitlines()]


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {x}" for i, x in enumerate(items, 1))


EN = _record("en", "electricity", 4)
ZH = _record("zh", "用电", 4)
EN_CAFE = _record("en", "cafe", 4)
ZH_CAFE = _record("zh", "咖啡馆", 4)

CASES = []
for lang, rec, other in (("en", EN, EN_CAFE), ("zh", ZH, ZH_CAFE)):
    items = _items(rec)
    topic = "ways to save electricity at home" if lang == "en" else "在家节约用电的方法"
    gaming = {
        "placeholder items": _numbered([f"Idea {i}" if lang == "en" else f"点子{i}" for i in range(1, 5)]),
        "random letters": _numbered(["asdf qwer", "zxcv bnm", "hjkl uiop", "tyu ghj"] if lang == "en"
                                    else ["甲乙丙", "丁戊己", "庚辛壬", "癸子丑"]),
        "one item repeated": _numbered([items[0]] * 4),
        "off-topic list": response(other),
        "topic echoed per item": _numbered([f"{topic} {i}" for i in range(1, 5)]),
        "topic words as items": _numbered(["Save", "Electricity", "Home", "Ways"] if lang == "en" else ["节约", "用电", "在家", "方法"]),
        "topic words plus filler": _numbered(
            ["Electricity saver alpha", "Home energy tip beta", "Power saving gamma", "Electric delta"] if lang == "en"
            else ["节约用电方案甲", "在家用电方案乙", "省电方案丙", "用电方案丁"]),
        "prompt echoed": last_user(rec),
        "prompt echoed as a list": _numbered([last_user(rec)] * 4),
    }
    valid = {
        "bullet list": "\n".join(f"- {x}" for x in items),
        "parenthesised numbers": "\n".join(f"{i}) {x}" for i, x in enumerate(items, 1)) if lang == "en"
        else "\n".join(f"{'一二三四'[i]}、{x}" for i, x in enumerate(items)),
        "one per line, no numbers": "\n".join(items),
        "with an intro line": ("Here are four ideas:\n" if lang == "en" else "这里有四个办法：\n") + _numbered(items),
    }
    if lang == "en":
        valid["ideas with explanations"] = _numbered([
            "Switch off the lights whenever you leave a room - an empty room needs no light.",
            "Replace old bulbs with LED ones, which use far less power.",
            "Unplug phone chargers when nothing is charging; they draw power all day.",
            "Hang laundry on a line to dry instead of running the dryer."])
        valid["other on-topic ideas"] = _numbered([
            "Wash clothes in cold water", "Keep the fridge door shut", "Put devices on a power strip you can switch off",
            "Install a smart thermostat"])
    else:
        valid["ideas with explanations"] = _numbered([
            "离开房间随手关灯，没人的房间不需要开灯。", "把旧灯泡换成LED灯泡，更省电。",
            "充电器不用时拔下来，插着也会耗电。", "衣服晾干就好，少用烘干机。"])
        valid["other on-topic ideas"] = _numbered([
            "洗衣服用冷水", "少开冰箱门，开了就尽快关上", "用带开关的插线板，不用时一键断电", "夏天空调温度调高一度"])
    CASES += [Case(TASK, f"{name} ({lang})", "gaming", rec, out) for name, out in gaming.items()]
    CASES += [Case(TASK, f"{name} ({lang})", "valid", rec, out) for name, out in valid.items()]
