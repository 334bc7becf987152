"""The matchers and metric entry points every task verifier is built from; each returns a float in [0, 1].

Standard metrics where the field has one live in `mtsft.tasks.metrics` (GSM8K, SQuAD, CMRC 2018, sacrebleu
chrF/BLEU, entity micro-F1, label accuracy); the functions here are the entry points tasks call, plus the
small matchers (token F1, JSON parsing, constraints) that have no standard form.

`SCORERS` names the ones a user task (YAML) may pick: each takes (output, reference_answer).
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

from rouge_score import rouge_scorer

from mtsft.tasks.metrics import cmrc2018, gsm8k, mt, ner, squad
from mtsft.tasks.metrics.answers import answer_span, clean, numbers_agree, strip_lead_in, strip_quotes
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


def answer_f1(output: str, answers: str | list[str], question: str = "", lang: str | None = None) -> float:
    """The standard short-answer F1 of the answer `output` gives: SQuAD v1.1 F1 for English, the CMRC 2018
    char-LCS F1 for Chinese (by the reference's language unless `lang` says), on the span
    `metrics.answers.answer_span` extracts (lead-in and the question's own words removed; a hedge or a list
    of candidates is no answer). No containment floor: the right answer inside a wrong sentence is wrong."""
    answers = [answers] if isinstance(answers, str) else [a for a in answers if a]
    if not answers:
        return 0.0
    whole = strip_lead_in(clean(output))
    if cmrc2018.exact_match(whole, answers) or squad.exact_match(whole, answers):
        return 1.0  # the output is a reference answer (nothing to extract)
    span = answer_span(output, question, answers)
    if not span:
        return 0.0
    answers = [a for a in answers if numbers_agree(span, a)]  # a wrong number is wrong, unit or not
    if not answers:
        return 0.0
    zh = (lang or detect_lang(" ".join(answers))) == "zh" or any(_HAN.search(a) for a in answers)
    return cmrc2018.f1(span, answers) if zh else squad.f1(span, answers)


_HAN = re.compile(r"[\u4e00-\u9fff]")


def chrf(output: str, reference: str) -> float:
    """sentence chrF (sacrebleu, char n-grams: needs no Chinese segmentation), scaled to [0, 1]."""
    return mt.sentence_chrf(output, reference)


def translation_answer_lang(record: dict) -> str:
    """The target language of a translation record: `reference.answer_lang` when set; else the one the
    instruction names ("into Chinese", "翻译成英文", "中译英"; the last user turn that names one); else the
    language other than the source's (the record's `lang` is the source language)."""
    ref = record.get("reference") if isinstance(record.get("reference"), dict) else {}
    if ref.get("answer_lang") in ("zh", "en"):
        return ref["answer_lang"]
    source = ref.get("source") or ""
    users = [m.get("content") or "" for m in record.get("messages") or [] if m.get("role") == "user"]
    for text in reversed(users):
        lang = mt.target_lang_from_instruction(text.replace(source, " ") if source else text)
        if lang:
            return lang
    src_lang = record.get("lang")
    if src_lang not in ("zh", "en"):
        src_lang = detect_lang(source or (users[0] if users else ""))
    return "en" if src_lang == "zh" else "zh"


def translation_score(output: str, record: dict, answer_lang: str | None = None) -> float:
    """Sentence chrF of the translation in `output` (lead-in line and quotes removed) against the
    reference; an untranslated copy of the source, or an answer wholly in the other language, is 0."""
    ref = record["reference"]
    target = answer_lang or translation_answer_lang(record)
    text = mt.extract_translation(output)
    if not text:
        return 0.0
    source = ref.get("source") or ""
    if source and normalize_label(text) == normalize_label(source) != normalize_label(ref["answer"]):
        return 0.0
    other = "en" if target == "zh" else "zh"
    if detect_lang(text) == other and detect_lang(ref["answer"]) == target:
        return 0.0
    return mt.sentence_chrf(text, strip_quotes(ref["answer"]))  # quotes around either side are not scored


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


def parse_number(token: str) -> float | None:
    return gsm8k.parse_number(token)


def final_number(text: str) -> float | None:
    """The number a worked solution commits to as its answer (`metrics.gsm8k.final_answer`: the `#### N`
    line, else the number after an answer marker, else the last number; None when it offers several)."""
    return gsm8k.final_answer(text)


def numeric_match(output: str, expected: float | str, rel_tol: float = 1e-6) -> float:
    """1.0 when the output's final answer equals `expected` (within a relative tolerance)."""
    return gsm8k.answer_matches(output, expected, rel_tol)


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


def json_field_f1(output: str | dict, reference: dict) -> float:
    """Micro-F1 over (field, value) pairs of the parsed JSON object (`metrics.ner.micro_f1`: entity
    micro-F1 over (type, span) when the values are entity lists); an unparsable output scores 0."""
    obj = parse_json_object(output) if isinstance(output, str) else output
    if obj is None:
        return 0.0
    return ner.micro_f1(obj, reference)


# ---- constraint checks ------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}\s*[.)、．]|[-*•])\s*(\S.*)$")


def list_items(text: str) -> list[str]:
    """Items of a numbered or bulleted list (lines that are not items are ignored)."""
    return [m.group(1).strip() for line in text.splitlines() if (m := _LIST_ITEM.match(line))]


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
