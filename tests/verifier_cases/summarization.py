"""summarization: one sentence that keeps a passage's main facts. A copy of the passage (a summary must
compress), the prompt echoed, the facts as a word list or fluent off-topic text must not pass; a summary in
other words must."""

from __future__ import annotations

import random
import re

from mtsft import tasks
from mtsft.tasks.relevance import last_user
from verifier_cases import Case

TASK = "summarization"

NEWS = {"en": re.compile(r"^(?P<org>.+?) has launched (?P<product>.+?) at a press event in (?P<city>.+?)\. The company "
                         r"says early orders reached (?P<units>\d+) units"),
        "zh": re.compile(r"^(?P<org>.+?)在(?P<city>.+?)举行发布会，推出了(?P<product>.+?)。公司表示，首周订单达到(?P<units>\d+)件")}
FESTIVAL = {"en": re.compile(r"^The (?P<season>\w+) lantern festival in (?P<city>.+?) ended on Sunday after (?P<days>\d+) "
                             r"days\. Organisers counted about (?P<visitors>\d+) thousand"),
            "zh": re.compile(r"^(?P<city>.+?)(?P<season>春天|夏天|秋天|冬天)灯会在持续(?P<days>\d+)天后于周日闭幕。主办方统计约有(?P<visitors>\d+)万")}


def _record(lang: str, pattern: re.Pattern) -> tuple[dict, dict]:
    task = tasks.get(TASK)
    for held_out in (False, True):
        rng = random.Random(f"cases-{TASK}-{lang}-{pattern.pattern[:12]}")
        for _ in range(4000):
            r = task.generate(rng, lang, held_out=held_out)
            m = pattern.match(r["reference"]["source"])
            if m:
                return r, m.groupdict()
    raise LookupError(f"{TASK}: no {lang} record matching {pattern.pattern[:40]!r}")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.。])\s*", text) if s]


G, V = "gaming", "valid"
CASES = []
for lang in ("en", "zh"):
    news, f = _record(lang, NEWS[lang])
    fest, g = _record(lang, FESTIVAL[lang])
    src = news["reference"]["source"]
    CASES += [
        Case(TASK, f"copy of the passage ({lang})", G, news, src),
        Case(TASK, f"copy of the passage, festival ({lang})", G, fest, fest["reference"]["source"]),
        Case(TASK, f"passage minus its last sentence ({lang})", G, news, " ".join(_sentences(src)[:-1])),
        Case(TASK, f"prompt echoed ({lang})", G, news, last_user(news)),
        Case(TASK, f"reference repeated ({lang})", G, fest, "\n".join([fest["reference"]["answer"]] * 4)),
        Case(TASK, f"facts as a word list ({lang})", G, news,
             f"{f['org']} {f['city']} {f['product']} {f['units']}" if lang == "en"
             else f"{f['org']}，{f['city']}，{f['product']}，{f['units']}件"),
        Case(TASK, f"off-topic fluent ({lang})", G, news,
             "The city council approved a new bicycle lane along the river after a long public debate." if lang == "en"
             else "市议会经过长时间的公开讨论，批准沿河修建一条新的自行车道。"),
    ]
    if lang == "en":
        CASES += [
            Case(TASK, "summary in other words, news (en)", V, news,
                 f"In {f['city']}, {f['org']} unveiled {f['product']}, which sold {f['units']} units in its first week."),
            Case(TASK, "summary in other words, festival (en)", V, fest,
                 f"A record {g['visitors']} thousand people visited {g['city']}'s {g['season']} lantern festival, "
                 f"which ran for {g['days']} days."),
            Case(TASK, "summary with a lead-in (en)", V, news, "In short: " + news["reference"]["answer"]),
        ]
    else:
        CASES += [
            Case(TASK, "summary in other words, news (zh)", V, news,
                 f"{f['org']}发布了{f['product']}，在{f['city']}首周就卖出{f['units']}件。"),
            Case(TASK, "summary in other words, festival (zh)", V, fest,
                 f"为期{g['days']}天的{g['city']}{g['season']}灯会迎来约{g['visitors']}万人次游客，人数创新高。"),
            Case(TASK, "summary with a lead-in (zh)", V, news, "简而言之：" + news["reference"]["answer"]),
        ]
