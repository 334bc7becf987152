"""GSM8K exact match, as lm-evaluation-harness defines it (ported, not vendored).

Source: EleutherAI/lm-evaluation-harness, lm_eval/tasks/gsm8k/gsm8k.yaml (filter_list and metric_list),
lm_eval/filters/extraction.py (RegexFilter) and the `exact_match` metric it calls (HF evaluate's
exact_match with `regexes_to_ignore`, `ignore_case: true`, `ignore_punctuation: false`):

- strict-match:     regex `#### (\\-?[0-9\\.\\,]+)`, first match;
- flexible-extract: regex `(-?[$0-9.,]{2,})|(-?[0-9]+)`, group_select -1 (the last match);
- a response with no match becomes "[invalid]";
- prediction and target then lose `,`, `$`, everything up to `#### ` and a final `.`, are lower-cased,
  and must be equal as strings.
"""

from __future__ import annotations

import re
import unicodedata

STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
INVALID = "[invalid]"
REGEXES_TO_IGNORE = [",", r"\$", r"(?s).*#### ", r"\.$"]


def _regex_filter(response: str, pattern: re.Pattern, group_select: int) -> str:
    """lm_eval RegexFilter: findall, pick one match, first non-empty group of a tuple, strip."""
    match = pattern.findall(response)
    if not match:
        return INVALID
    match = match[group_select]
    if isinstance(match, tuple):
        match = [m for m in match if m]
        match = match[0] if match else INVALID
    return match.strip()


def extract_strict(response: str) -> str:
    return _regex_filter(response, STRICT, 0)


def extract_flexible(response: str) -> str:
    return _regex_filter(response, FLEXIBLE, -1)


def _clean(text: str) -> str:
    for pattern in REGEXES_TO_IGNORE:
        text = re.sub(pattern, "", text)
    return text.lower()


def exact_match(prediction: str, target: str) -> float:
    """The harness's exact_match after `regexes_to_ignore` and `ignore_case` (target: the full GSM8K
    answer with its `#### N` line, or just N)."""
    return float(_clean(prediction) == _clean(target))


def strict_match(response: str, target: str) -> float:
    return exact_match(extract_strict(response), target)


def flexible_extract(response: str, target: str) -> float:
    return exact_match(extract_flexible(response), target)


def target_number(answer: str) -> str:
    """N of a GSM8K answer's `#### N` line, cleaned as the harness cleans the target."""
    return _clean(answer).strip()


# ---- mtsft's final-answer reading, layered on the harness's regexes ----------------------------------
# The harness's flexible-extract takes the last number, so "It could be 41, 43 or 42" passes and
# "Answer: 42. Check: 42 - 1 = 41" fails. A built-in verifier reads the answer the output commits to:
# the `#### N` line (strict-match) when there is one; else the number right after an answer marker
# ("Answer:", "the answer is", "答案是"; `=` is working, not a marker); else the last number
# (flexible-extract). Number words and Chinese numerals count as numbers; several different `####` or
# marked answers, and a final sentence offering several numbers ("41, 43 or 42", "between 40 and 42"),
# commit to nothing.

_MARKER = re.compile(r"(?:final\s+answer|the\s+answer|answer|result)\s*(?:is|was|would\s+be|should\s+be|:|：)?"
                     r"|(?:最终)?答案\s*(?:是|为|应该是|:|：)?|结果\s*(?:是|为)", re.I)
_NUM = re.compile(r"-?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?")
_SENTENCE_END = re.compile(r"\n|[。！？；;!?]|\.(?=\s|$)")
_HEDGE_WORDS = re.compile(r"\b(?:or|either|maybe|perhaps|possibly|probably|could|might|between|guess)\b"
                          r"|或|可能|也许|大概|之间|还是|不确定", re.I)
_LIST_GAP = re.compile(r"^\s*(?:,|，|、|;|；|/|or|and|或者|或|和|以及|还是)?\s*(?:,|，)?\s*$", re.I)


def parse_number(token: str) -> float | None:
    token = token.replace(",", "").replace("$", "").rstrip(".")
    try:
        if "/" in token:
            a, b = token.split("/")
            return float(a) / float(b)
        return float(token)
    except (ValueError, ZeroDivisionError):
        return None


def _numbers(text: str) -> list[tuple[re.Match, float]]:
    return [(m, v) for m in _NUM.finditer(text) if (v := parse_number(m.group())) is not None]


def _hedged(clause: str) -> bool:
    """Several different numbers offered as alternatives or a bare list in one clause."""
    nums = _numbers(clause)
    if len({v for _, v in nums}) < 2:
        return False
    if _HEDGE_WORDS.search(clause):
        return True
    gaps = [clause[a.end():b.start()] for (a, _), (b, _) in zip(nums, nums[1:])]
    return all(_LIST_GAP.match(g) for g in gaps)


def _clause_after(text: str, start: int) -> str:
    end = _SENTENCE_END.search(text, start)
    return text[start:end.start() if end else len(text)]


def final_answer(output: str) -> float | None:
    """The number `output` commits to as its final answer, or None (no number, or several offered)."""
    from mtsft.tasks.metrics.answers import clean
    from mtsft.tasks.metrics.numerals import words_to_digits

    text = words_to_digits(unicodedata.normalize("NFKC", clean(output)))
    strict = {parse_number(x) for x in STRICT.findall(text)} - {None}
    if strict:
        return strict.pop() if len(strict) == 1 else None
    marked = []
    for m in _MARKER.finditer(text):
        clause = _clause_after(text, m.end())
        nums = _numbers(clause)
        if not nums:
            continue
        if _hedged(clause):
            return None
        marked.append(nums[0][1])
    if marked:
        return marked[0] if len(set(marked)) == 1 else None
    nums = _numbers(text)
    if not nums:
        return None
    last = nums[-1][0]
    bounds = [e.end() for e in _SENTENCE_END.finditer(text) if e.end() <= last.start()]
    end = _SENTENCE_END.search(text, last.end())
    if _hedged(text[bounds[-1] if bounds else 0:end.start() if end else len(text)]):
        return None
    return nums[-1][1]


def answer_matches(output: str, value: float | str, rel_tol: float = 1e-6) -> float:
    """1.0 when the final answer of `output` equals `value` (numerically, within a relative tolerance)."""
    got = final_answer(output)
    want = parse_number(value) if isinstance(value, str) else float(value)
    if got is None or want is None:
        return 0.0
    return float(abs(got - want) <= rel_tol * max(1.0, abs(want)))
