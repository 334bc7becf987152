"""Small text utilities every stage shares: language id, normalisation.

Language id is a CJK-ratio rule rather than a model: mtsft's languages are zh, en and their mixture,
and the ratio of Han characters to letters separates them offline, in microseconds, with no weights.
"""

from __future__ import annotations

import ast
import re
import threading
import unicodedata
import warnings

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


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F: one regex scan instead of a Python loop
# over every character (a million records hold hundreds of millions of them).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def has_control_chars(text: str) -> bool:
    """True when text holds control characters other than tab/newline, or the U+FFFD replacement mark."""
    return _CONTROL.search(text) is not None


# CPython 3.11 keeps the AST constructor's recursion depth in interpreter state shared by all threads, so
# two threads running ast.parse at once can fail with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython gh-106905). The scorers run in a thread pool and parse model-written code, and
# one such error killed a demo run's eval stage; every ast.parse in mtsft goes through this lock.
_AST_LOCK = threading.Lock()


def parse_python(source: str) -> ast.Module:
    """ast.parse, one thread at a time, warnings about the source (e.g. invalid escapes) silenced."""
    with _AST_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)
