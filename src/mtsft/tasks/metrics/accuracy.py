"""Classification accuracy against the label set the prompt lists.

The metric is plain accuracy (1 when the label named is the reference label); the work is reading which
label an output names. An output names label L when, after answer lead-ins ("Label:", "The sentiment
is", "标签：") are stripped, it is L, or it mentions L and no other label of the set, and L is not negated
("not L", "isn't L", "不是L", "非L"). Two labels offered as alternatives, every label listed, or the
reference negated name no label.
"""

from __future__ import annotations

import re
import unicodedata

from mtsft.tasks.metrics.answers import clean, strip_lead_in

_NEG_EN = re.compile(r"(?:\bnot|n't|\bno|\bnever|\bneither|\bnor|\bnon)[\s-]+(?:\w+\s+){0,2}$", re.I)
_NEG_ZH = re.compile(r"(?:不是|并非|不属于|不算|不|没有|无|非)[很太算是属于那么]{0,2}$")
_CLAUSE = re.compile(r"[,.;:!?，。；：！？、\n]")
MAX_WORDS = 30  # a label answer that runs longer is a reply, not a label


def _is_cjk(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def _fold(text: str) -> str:
    return re.sub(r"[\s\W_]+", " ", unicodedata.normalize("NFKC", clean(text)).lower()).strip()


def _mentions(text: str, label: str) -> list[int]:
    lab = label.lower()
    if _is_cjk(lab):
        return [m.start() for m in re.finditer(re.escape(lab), text)]
    return [m.start() for m in re.finditer(rf"(?<![a-z0-9]){re.escape(lab)}(?![a-z0-9])", text)]


def _negated(before: str) -> bool:
    """Whether the clause text right before a label mention negates it ("not ", "isn't a ", "不是")."""
    before = before.replace("非常", "")  # 非常 = "very"
    return bool(_NEG_EN.search(before.rstrip() + " ") or _NEG_ZH.search(before.rstrip()))


def named_label(output: str, labels: list[str]) -> str | None:
    """The one label of `labels` that `output` names, or None (no label, several, or negated)."""
    text = strip_lead_in(unicodedata.normalize("NFKC", clean(output))).lower()
    if not text:
        return None
    folded = _fold(text)
    for label in labels:
        if folded == _fold(label):
            return label
    if len(re.findall(r"\w+", text)) > MAX_WORDS:
        return None
    affirmed, negated = set(), set()
    masked = text
    for label in sorted(labels, key=len, reverse=True):  # longest first: a label inside another is not named
        for start in _mentions(masked, label):
            (negated if _negated(_CLAUSE.split(masked[:start])[-1]) else affirmed).add(label)
        masked = re.sub(re.escape(label.lower()), " " * len(label), masked)
    if len(affirmed) != 1 or affirmed & negated:
        return None
    return next(iter(affirmed))


def accuracy(output: str, label: str, labels: list[str] | None = None) -> float:
    """1.0 when `output` names `label` (from the label set `labels`; just `label` when the set is unknown)."""
    labels = list(labels or [])
    if label not in labels:
        labels.append(label)
    return float(named_label(output, labels) == label)
