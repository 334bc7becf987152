"""The built-in scorers every verifier is made of; each returns a float in [0, 1].

Library metrics where the field has one (chrF from sacrebleu, ROUGE-L from rouge-score); the small
matchers (numbers, labels, token F1, JSON fields, constraints) are written here because they are a few
lines each and must treat Chinese and English alike.

`SCORERS` names the ones a user task (YAML) may pick: each takes (output, reference_answer).
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

import sacrebleu
from rouge_score import rouge_scorer

from mtsft.text import detect_lang, normalize

# ---- tokens ---------------------------------------------------------------------------------------

_CJK_OR_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+(?:\.[0-9]+)?")
_ARTICLES = {"a", "an", "the"}


def tokens(text: str) -> list[str]:
    """Words for Latin text, single characters for Chinese (the usual segmentation for zh metrics).

    rouge-score's default tokenizer keeps only [a-z0-9], so Chinese would score 0 without this.
    """
    return [t for t in _CJK_OR_WORD.findall(normalize(text)) if t not in _ARTICLES]


class _MixedTokenizer:
    """The `tokenize` interface rouge-score expects, backed by `tokens`."""

    def tokenize(self, text: str) -> list[str]:
        return tokens(text)


@lru_cache(maxsize=1)
def _rouge() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_MixedTokenizer())


# ---- text similarity --------------------------------------------------------------------------------

def token_f1(output: str, reference: str) -> float:
    """SQuAD-style bag-of-tokens F1 (characters for Chinese)."""
    pred, ref = tokens(output), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    p, r = common / len(pred), common / len(ref)
    return 2 * p * r / (p + r)


def answer_f1(output: str, answers: str | list[str]) -> float:
    """Best token F1 over the accepted answers; a prediction that contains an answer verbatim gets at
    least 0.5 (a full-sentence answer around the right span is not wrong, just wordy)."""
    answers = [answers] if isinstance(answers, str) else list(answers)
    best = 0.0
    norm_out = _squash(output)
    for ans in answers:
        f1 = token_f1(output, ans)
        if _squash(ans) and _squash(ans) in norm_out:
            f1 = max(f1, 0.5)
        best = max(best, f1)
    return best


def _squash(text: str) -> str:
    """Normalised text without punctuation or spaces, for containment tests."""
    return "".join(tokens(text))


def chrf(output: str, reference: str) -> float:
    """sentence chrF (sacrebleu, char n-grams: needs no Chinese segmentation), scaled to [0, 1]."""
    if not output.strip() or not reference.strip():
        return float(output.strip() == reference.strip())
    return sacrebleu.sentence_chrf(output.strip(), [reference.strip()]).score / 100.0


def rouge_l(output: str, reference: str) -> float:
    """ROUGE-L F-measure with Chinese split into characters."""
    if not tokens(output) or not tokens(reference):
        return float(tokens(output) == tokens(reference))
    return _rouge().score(reference, output)["rougeL"].fmeasure


# ---- exact answers ----------------------------------------------------------------------------------

_PUNCT = set(string.punctuation) | set("，。！？；：、“”‘’（）《》【】…·")


def normalize_label(text: str) -> str:
    return "".join(c for c in normalize(text) if c not in _PUNCT).strip()


def exact_match(output: str, reference: str | list[str]) -> float:
    """Normalised exact match (case, width, whitespace and punctuation folded) against any accepted form."""
    accepted = [reference] if isinstance(reference, str) else list(reference)
    out = normalize_label(output)
    return float(any(out == normalize_label(a) for a in accepted))


_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?(?:/\d+)?")
_ANSWER_MARK = re.compile(r"(?:####|answer\s*(?:is|:)|答案\s*(?:是|为|:|：)|结果\s*(?:是|为)|=)", re.I)


def parse_number(token: str) -> float | None:
    token = token.replace(",", "")
    try:
        if "/" in token:
            a, b = token.split("/")
            return float(a) / float(b)
        return float(token)
    except (ValueError, ZeroDivisionError):
        return None


def final_number(text: str) -> float | None:
    """The answer number of a worked solution: the first number after the last answer marker
    ("####", "answer is", "答案：", "="), else the last number in the text. Thousands separators, units
    and currency signs around it are ignored."""
    text = normalize(text)
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        found = _NUMBER.search(text, marks[-1].end())
        if found:
            return parse_number(found.group())
    numbers = _NUMBER.findall(text)
    return parse_number(numbers[-1]) if numbers else None


def numeric_match(output: str, expected: float | str, rel_tol: float = 1e-6) -> float:
    """1.0 when the output's final number equals `expected` (within a relative tolerance)."""
    got = final_number(output)
    want = float(expected) if not isinstance(expected, str) else parse_number(expected)
    if got is None or want is None:
        return 0.0
    return float(abs(got - want) <= rel_tol * max(1.0, abs(want)))


# ---- structured answers -----------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.S)


def parse_json_object(output: str) -> dict | None:
    """The JSON object in `output`: the whole text, else a fenced block, else the outermost {...}."""
    candidates = [output.strip()] + [m.group(1).strip() for m in _FENCE.finditer(output)]
    start, end = output.find("{"), output.rfind("}")
    if 0 <= start < end:
        candidates.append(output[start:end + 1])
    for text in candidates:
        try:
            obj = json.loads(text)
        except (json.JSONDecodeError, ValueError):
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _field_pairs(obj: dict) -> Counter:
    pairs: Counter = Counter()
    for key, value in obj.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            pairs[(normalize_label(str(key)), normalize_label(str(v)))] += 1
    return pairs


def json_field_f1(output: str, reference: dict) -> float:
    """F1 over (field, value) pairs of the parsed JSON object; list values count element by element."""
    obj = parse_json_object(output) if isinstance(output, str) else output
    if obj is None:
        return 0.0
    pred, ref = _field_pairs(obj), _field_pairs(reference)
    if not pred and not ref:
        return 1.0
    common = sum((pred & ref).values())
    if common == 0:
        return 0.0
    p, r = common / sum(pred.values()), common / sum(ref.values())
    return 2 * p * r / (p + r)


# ---- constraint checks ------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}\s*[.)、．]|[-*•])\s*(\S.*)$")


def list_items(text: str) -> list[str]:
    """Items of a numbered or bulleted list (lines that are not items are ignored)."""
    return [m.group(1).strip() for line in text.splitlines() if (m := _LIST_ITEM.match(line))]


def distinct_ratio(items: list[str]) -> float:
    return len({normalize_label(i) for i in items}) / len(items) if items else 0.0


def text_length(text: str, lang: str) -> int:
    """Length in the unit a writer of `lang` counts: Chinese characters, or English words."""
    return len(re.findall(r"[\u4e00-\u9fff]", text)) if lang == "zh" else len(re.findall(r"[A-Za-z0-9']+", text))


def length_ok(text: str, lang: str, lo: int, hi: int) -> float:
    return float(lo <= text_length(text, lang) <= hi)


def keyword_coverage(text: str, keywords: list[str]) -> float:
    if not keywords:
        return 1.0
    low = normalize(text)
    return sum(normalize(k) in low for k in keywords) / len(keywords)


def language_ok(text: str, lang: str) -> float:
    return float(detect_lang(text) == lang)


# ---- the scorers a user task may pick ----------------------------------------------------------------

SCORERS: dict[str, Callable[[str, object], float]] = {
    "exact_match": exact_match,
    "numeric_match": numeric_match,
    "token_f1": token_f1,
    "answer_f1": answer_f1,
    "chrf": chrf,
    "rouge_l": rouge_l,
    "json_field_f1": json_field_f1,
    "keyword_coverage": keyword_coverage,
}
