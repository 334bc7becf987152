"""CMRC 2018 exact match and F1 (Chinese), ported from the official evaluation script
(ymcui/cmrc2018, squad-style-data/cmrc2018_evaluate.py, "version: v5").

mixed_segmentation: lower-case; every Han character (U+4E00-U+9FA5) and every listed punctuation mark is
its own segment, runs of other characters are word-tokenised (nltk.word_tokenize there; here nltk's
Treebank word tokenizer without the Punkt sentence split, which needs downloaded data: identical for a
single-sentence answer); with rm_punc the listed marks are dropped. F1 is over the longest common
*substring* of segments (find_lcs), EM compares the strings with the listed marks removed. Both take the
max over the answers. Note the official list holds "……" as one two-character item, which a per-character
test never matches; that quirk is kept.
"""

from __future__ import annotations

import re
from functools import lru_cache

SP_CHAR = ["-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=",
           "，", "。", "：", "？", "！", "“", "”", "；", "’", "《", "》", "……", "·", "、",
           "「", "」", "（", "）", "－", "～", "『", "』"]
_HAN = re.compile(r"[\u4e00-\u9fa5]")


@lru_cache(maxsize=1)
def _word_tokenizer():
    from nltk.tokenize import NLTKWordTokenizer  # what nltk.word_tokenize runs on each sentence

    return NLTKWordTokenizer()


def _word_tokenize(text: str) -> list[str]:
    return _word_tokenizer().tokenize(text)


def mixed_segmentation(in_str: str, rm_punc: bool = False) -> list[str]:
    in_str = str(in_str).lower().strip()
    segs_out: list[str] = []
    temp_str = ""
    for char in in_str:
        if rm_punc and char in SP_CHAR:
            continue
        if _HAN.search(char) or char in SP_CHAR:
            if temp_str != "":
                segs_out.extend(_word_tokenize(temp_str))
                temp_str = ""
            segs_out.append(char)
        else:
            temp_str += char
    if temp_str != "":
        segs_out.extend(_word_tokenize(temp_str))
    return segs_out


def remove_punctuation(in_str: str) -> str:
    return "".join(c for c in str(in_str).lower().strip() if c not in SP_CHAR)


def find_lcs(s1: list[str], s2: list[str]) -> tuple[list[str], int]:
    """Longest common substring (contiguous) of two segment lists, and its length."""
    m = [[0] * (len(s2) + 1) for _ in range(len(s1) + 1)]
    mmax, p = 0, 0
    for i in range(len(s1)):
        for j in range(len(s2)):
            if s1[i] == s2[j]:
                m[i + 1][j + 1] = m[i][j] + 1
                if m[i + 1][j + 1] > mmax:
                    mmax, p = m[i + 1][j + 1], i + 1
    return s1[p - mmax:p], mmax


def calc_f1_score(answers: list[str], prediction: str) -> float:
    scores = []
    prediction_segs = mixed_segmentation(prediction, rm_punc=True)
    for ans in answers:
        ans_segs = mixed_segmentation(ans, rm_punc=True)
        _, lcs_len = find_lcs(ans_segs, prediction_segs)
        if lcs_len == 0:
            scores.append(0.0)
            continue
        precision, recall = lcs_len / len(prediction_segs), lcs_len / len(ans_segs)
        scores.append(2 * precision * recall / (precision + recall))
    return max(scores) if scores else 0.0


def calc_em_score(answers: list[str], prediction: str) -> float:
    pred = remove_punctuation(prediction)
    return float(any(remove_punctuation(ans) == pred for ans in answers))


def f1(prediction: str, answers: str | list[str]) -> float:
    return calc_f1_score([answers] if isinstance(answers, str) else list(answers), prediction)


def exact_match(prediction: str, answers: str | list[str]) -> float:
    return calc_em_score([answers] if isinstance(answers, str) else list(answers), prediction)
