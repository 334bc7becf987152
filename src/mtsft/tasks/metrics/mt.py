"""Translation metrics: sacrebleu's own chrF and BLEU, sentence-level per record and corpus-level for a
table (sacrebleu is called, not re-implemented; its defaults are the reported signature: chrF n=6, beta=2;
BLEU 4-gram with exp smoothing for sentences, tokenizer `zh` for Chinese targets, else `13a`).

Scores are scaled to [0, 1]; `signature()` gives the sacrebleu signature to print under a table.
"""

from __future__ import annotations

import re

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF


def _bleu_tokenize(target_lang: str | None) -> str:
    return "zh" if target_lang == "zh" else "13a"


_CHRF: list[CHRF] = []


def sentence_chrf(hypothesis: str, reference: str) -> float:
    """sacrebleu's sentence chrF (defaults), from one reused `CHRF` object: `sacrebleu.sentence_chrf` builds a
    new one per call, which costs more than scoring one sentence; the score is the same."""
    hyp, ref = hypothesis.strip(), reference.strip()
    if not hyp or not ref:
        return float(hyp == ref)
    if not _CHRF:
        _CHRF.append(CHRF())
    return min(1.0, _CHRF[0].sentence_score(hyp, [ref]).score / 100.0)


def sentence_bleu(hypothesis: str, reference: str, target_lang: str | None = None) -> float:
    hyp, ref = hypothesis.strip(), reference.strip()
    if not hyp or not ref:
        return float(hyp == ref)
    return min(1.0, sacrebleu.sentence_bleu(hyp, [ref], tokenize=_bleu_tokenize(target_lang)).score / 100.0)


def _streams(references: list[str] | list[list[str]]) -> list[list[str]]:
    """One reference per hypothesis (list[str]) or several reference streams (list[list[str]])."""
    if references and isinstance(references[0], str):
        return [[r.strip() for r in references]]
    return [[r.strip() for r in stream] for stream in references]


def corpus_chrf(hypotheses: list[str], references: list[str] | list[list[str]]) -> float:
    if not hypotheses:
        return 0.0
    return min(1.0, sacrebleu.corpus_chrf([h.strip() for h in hypotheses], _streams(references)).score / 100.0)


def corpus_bleu(hypotheses: list[str], references: list[str] | list[list[str]],
                target_lang: str | None = None) -> float:
    if not hypotheses:
        return 0.0
    return min(1.0, sacrebleu.corpus_bleu([h.strip() for h in hypotheses], _streams(references),
                                          tokenize=_bleu_tokenize(target_lang)).score / 100.0)


def signature(target_lang: str | None = None) -> dict[str, str]:
    """sacrebleu signatures of the corpus metrics (one reference), to print under a scores table."""
    chrf, bleu = CHRF(), BLEU(tokenize=_bleu_tokenize(target_lang))
    chrf.corpus_score(["a"], [["a"]])
    bleu.corpus_score(["a"], [["a"]])
    return {"chrf": str(chrf.get_signature()), "bleu": str(bleu.get_signature())}


# ---- mtsft's reading of a translation request and of its answer ---------------------------------------

_TO_ZH = re.compile(
    r"(?:english|英文|英语)\s*(?:to|into|->|→|-|译|翻译成|翻成)\s*(?:simplified\s+|traditional\s+)?(?:chinese|mandarin|中文|汉语)"
    r"|\b(?:in|into|to)\s+(?:simplified\s+|traditional\s+)?(?:chinese|mandarin)\b|\ben\s*(?:-|→|->|2)\s*zh\b"
    r"|英译中|英译汉|(?:翻译|译|翻)(?:成|为|作)(?:中文|汉语|简体中文|普通话)|中文翻译|中文怎么说|用中文", re.I)
_TO_EN = re.compile(
    r"(?:chinese|mandarin|中文|汉语)\s*(?:to|into|->|→|-|译|翻译成|翻成)\s*(?:english|英文|英语)"
    r"|\b(?:in|into|to)\s+english\b|\bzh\s*(?:-|→|->|2)\s*en\b"
    r"|中译英|汉译英|(?:翻译|译|翻)(?:成|为|作)(?:英文|英语)|英文翻译|英语翻译|(?:英语|英文)怎么说|用英[语文]", re.I)


def target_lang_from_instruction(text: str) -> str | None:
    """"zh" / "en" when a translation instruction names its target language, else None. A direction
    ("English to Chinese", "中译英") wins over a bare "in Chinese"; otherwise the last one named wins."""
    hits = [(m.start(), "zh") for m in _TO_ZH.finditer(text)] + [(m.start(), "en") for m in _TO_EN.finditer(text)]
    if not hits:
        return None
    langs = {lang for _, lang in hits}
    return hits[0][1] if len(langs) == 1 else max(hits)[1]


_LEAD_LINE = re.compile(
    r"(?:translat|here(?:'s| is)|sure|certainly|of course|okay|译文|翻译|以下是|如下|好的|当然)", re.I)
_LEAD_PREFIX = re.compile(
    r"^(?:(?:sure|certainly|of course|okay|ok|好的|当然)[!,.！，。\s]*)?"
    r"(?:(?:here(?:'s| is)\s+)?(?:the\s+|my\s+|your\s+)?(?:\w+\s+)?translation(?:\s+is)?|译文|翻译(?:如下|是)?|英文(?:翻译)?|中文(?:翻译)?)"
    r"\s*[:：]\s*", re.I)


def extract_translation(output: str) -> str:
    """The translation in `output`: a polite lead-in line ("Here is the translation:") or prefix
    ("Translation: ", "译文：") and surrounding quotes removed; the rest is kept as it is."""
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    while len(lines) > 1 and lines[0].endswith((":", "：")) and _LEAD_LINE.search(lines[0]) and len(lines[0]) <= 80:
        lines = lines[1:]
    text = "\n".join(lines)
    text = _LEAD_PREFIX.sub("", text, count=1).strip()
    from mtsft.tasks.metrics.answers import strip_quotes

    return strip_quotes(text)
