"""Small text utilities every stage shares: language id, normalisation.

Language id is a CJK-ratio rule rather than a model: mtsft's languages are zh, en and their mixture,
and the ratio of Han characters to letters separates them offline, in microseconds, with no weights.
"""

from __future__ import annotations

import re
import unicodedata

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACE = re.compile(r"\s+")


def cjk_ratio(text: str) -> float:
    """Share of Han characters among Han characters and Latin letters (0.0 when there are neither)."""
    han = len(_HAN.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    # Compare characters to words: one Chinese character carries about as much as one English word.
    total = han + latin_words
    return han / total if total else 0.0


def detect_lang(text: str) -> str:
    """'zh', 'en' or 'mixed' by the CJK ratio; text with no letters at all counts as 'en'."""
    ratio = cjk_ratio(text)
    if ratio >= 0.6:
        return "zh"
    if ratio <= 0.15:
        return "en"
    return "mixed"


def normalize(text: str) -> str:
    """Case-, width- and whitespace-folded text for hashing and matching (NFKC folds full-width forms)."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def has_control_chars(text: str) -> bool:
    """True when text holds control characters other than tab/newline, or the U+FFFD replacement mark."""
    return any((unicodedata.category(c) == "Cc" and c not in "\t\n\r") or c == "\ufffd" for c in text)
