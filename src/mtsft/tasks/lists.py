"""List requests: how many items a prompt asks for, and the items an answer gives.

"List five ...", "Give me 3-5 ideas", "at least 4", "列出三个…", "推荐五条", "想四个" each ask for a count; an
answer whose list has another number of items has a format problem (`formats.check_list`). Reading the count
from the prompt matters for records that carry no `reference["n"]` (imported or hand-written data).

Conservative on purpose: a count is read only after a request verb (or before a noun that names list items),
never from units ("a 100-word story", "in 3 sentences", "三句话", "五分钟"), and a request for one thing is
not a list request. Where the answer's list structure is unclear, no items are returned and nothing is judged.
"""

from __future__ import annotations

import re

from mtsft.text import normalize

_EN_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_EN_WORDS["dozen"] = _EN_WORDS["a dozen"] = 12
# 2..99 in digits or words: a request for one thing is not a list request.
_EN_NUM = r"(?:[2-9]|[1-9]\d|a dozen|dozen|" + "|".join(w for w, i in _EN_WORDS.items() if 2 <= i <= 20) + ")"
_EN_UNITS = (r"(?:words?|sentences?|paragraphs?|lines?|characters?|letters?|syllables?|pages?|seconds?|minutes?|hours?|"
             r"days?|weeks?|months?|years?|times?|percent|per|km|miles?|kg|dollars?|euros?|yuan|cents?|degrees?|"
             r"bars?|verses?|stanzas?|chapters?|digits?|decimal)\b")
_EN_ASK = (r"\b(?:list|give|name|suggest|brainstorm|come up with|think (?:of|up)|provide|recommend|share|offer|"
           r"jot down|write down|outline|what are|need|want|top|pick|choose|enumerate|propose)\b")
_EN_ITEMS = (r"(?:ideas?|ways?|tips?|names?|options?|examples?|reasons?|things?|suggestions?|questions?|steps?|titles?|"
             r"topics?|places?|activities|items?|points?|slogans?|books?|games?|facts?|benefits?|methods?|strategies|"
             r"recipes?|dishes|destinations?|themes?|gifts?|habits?|bullet points?|bullets?|alternatives?|choices?)\b")
_EN_BOUND = r"(?P<q>at least|at most|up to|no more than|no fewer than|exactly)?\s*"
_EN_COUNT = rf"(?P<n>{_EN_NUM})(?:\s*(?:-|–|to|or)\s*(?P<m>{_EN_NUM}))?"
_EN_AFTER_VERB = re.compile(rf"{_EN_ASK}(?:\W+[\w'-]+){{0,3}}?\W+{_EN_BOUND}{_EN_COUNT}\s+(?!{_EN_UNITS})[a-z]", re.I)
_EN_BEFORE_NOUN = re.compile(rf"\b{_EN_BOUND}{_EN_COUNT}\s+(?:[\w'-]+\s+){{0,2}}?{_EN_ITEMS}", re.I)

_ZH_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# 2..99 in digits or Chinese numerals (a lone 一 is "a", as in 列一个清单 "make a list").
_ZH_NUM = r"(?:[1-9]\d|[2-9]|[一二三四五六七八九]?十[一二三四五六七八九]?|[二两三四五六七八九])"
_ZH_MEASURE = r"[个条种点项件样款道位处家本部名招则组]"  # not 句/段/字/首/分钟/天: sentences, units, poems
_ZH_ASK = r"(?:列出|列举|列|给|推荐|想|提供|说|写出|举|来|起|有哪|出|分享|介绍|需要|要|挑|选)"
_ZH_BOUND = r"(?P<q>至少|最多|不超过|不少于|不多于)?"
_ZH_REQUEST = re.compile(rf"{_ZH_ASK}[^，。？！；,.?!;\n]{{0,8}}?{_ZH_BOUND}(?P<n>{_ZH_NUM})(?:[到至\-~～](?P<m>{_ZH_NUM}))?{_ZH_MEASURE}")

_AT_LEAST = {"at least", "no fewer than", "至少", "不少于"}
_AT_MOST = {"at most", "up to", "no more than", "最多", "不超过", "不多于"}


def number_value(text: str) -> int:
    """The value of a count written in digits, English words or Chinese numerals (up to 99)."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    if text in _EN_WORDS:
        return _EN_WORDS[text]
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _ZH_DIGIT.get(tens, 1) * 10 + _ZH_DIGIT.get(ones, 0)
    return _ZH_DIGIT[text]


def requested_count(prompt: str) -> tuple[int, int | None] | None:
    """(fewest, most) items a prompt asks for (`most` None: no upper bound), or None when it asks for no
    particular number. "List five" -> (5, 5); "3-5 ideas" -> (3, 5); "at least 4" -> (4, None)."""
    for pattern in (_EN_AFTER_VERB, _EN_BEFORE_NOUN, _ZH_REQUEST):
        match = pattern.search(prompt)
        if match:
            # a bound may also stand before the verb: "至少列出五条", "at least list 4"
            before = prompt[max(0, match.start() - 9):match.start()].lower()
            bound = match.group("q") or next((b for b in (*_AT_LEAST, *_AT_MOST) if before.rstrip().endswith(b)), "")
            return _bounds(match, bound.lower())
    return None


def _bounds(match: re.Match, bound: str) -> tuple[int, int | None]:
    n = number_value(match.group("n"))
    if match.group("m"):
        return n, number_value(match.group("m"))
    if bound in _AT_LEAST:
        return n, None
    if bound in _AT_MOST:
        return 1, n
    return n, n


def count_fits(count: int, wanted: tuple[int, int | None]) -> bool:
    low, high = wanted
    return count >= low and (high is None or count <= high)


# ---- the items of an answer ---------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(?P<indent>\s*)(?:\(?\d{1,2}\s*[.)、．:：]|\(\d{1,2}\)|[\u2460-\u2473]|"
                       r"[一二三四五六七八九十]{1,3}\s*[、.．)]|[（(][一二三四五六七八九十]{1,3}[）)])\s*(?P<item>\S.*)$")
_BULLET = re.compile(r"^(?P<indent>\s*)[-*•·–]\s+(?P<item>\S.*)$")
_INLINE = re.compile(r"(?:^|[\s；;，,。])(\d{1,2})\s*[.)、．]\s*(?=\S)")
_CHATTY_END = re.compile(r"\b(?:hope|let me know|enjoy|good luck|have fun)\b|希望|祝你|如果.*需要", re.I)


def list_entries(output: str) -> list[str]:
    """The top-level items of a list answer: numbered ("1." "1)" "(1)" "1、" "①" "一、" "（一）") or bulleted
    lines at the outermost indentation (sub-points under an item are not items; when numbered and bulleted
    lines mix, the numbered ones are the items), an inline "1. a 2. b 3. c", or failing those, plain
    short lines after an optional intro line ending in a colon. [] where no list structure is clear."""
    lines = [line for line in output.splitlines() if line.strip()]
    for pattern in (_NUMBERED, _BULLET):
        marked = [m for line in lines if (m := pattern.match(line))]
        if len(marked) >= 2:
            outer = min(len(m.group("indent").expandtabs()) for m in marked)
            return [_clean(m.group("item")) for m in marked if len(m.group("indent").expandtabs()) == outer]
    inline = _inline_items(output)
    if inline:
        return inline
    single = [m.group("item") for line in lines if (m := _NUMBERED.match(line))]
    return [_clean(single[0])] if single else _plain_lines(lines)


def _inline_items(text: str) -> list[str]:
    """Items of "1. a 2. b 3. c" written on one line: numbers that count up from 1, two or more."""
    marks = list(_INLINE.finditer(text))
    numbers = [int(m.group(1)) for m in marks]
    if len(numbers) < 2 or numbers != list(range(1, len(numbers) + 1)):
        return []
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return [_clean(text[m.end():end]) for m, end in zip(marks, ends)]


def _plain_lines(lines: list[str]) -> list[str]:
    if lines and lines[0].rstrip().endswith((":", "：")):
        lines = lines[1:]
    if lines and _CHATTY_END.search(lines[-1]) and len(lines) > 2:
        lines = lines[:-1]
    if len(lines) >= 2 and all(len(line.strip()) <= 80 and not line.rstrip().endswith((":", "：")) for line in lines):
        return [_clean(line) for line in lines]
    return []


def _clean(item: str) -> str:
    return normalize(item.replace("**", "").replace("__", "")).strip(" ;；,，")
