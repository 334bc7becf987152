"""Entity micro-F1 over (type, span) pairs: the NER metric of conlleval / seqeval (micro average),
computed on entity sets rather than BIO tags, since the model answers with a JSON object of lists
({"PER": [...], "LOC": [...], "ORG": [...]}). The same metric scores field extraction, with the field
name as the type ({"name": "Li Wei", "city": "Kunming"}).

A span matches when it is the same string after NFKC, case folding and whitespace collapsing (exact
span match, as conlleval; only the surface folding of a JSON string is forgiven). Empty values are no
prediction. A list where the reference has one value (a single-valued field) is one wrong prediction:
stuffing every candidate into a field earns nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter


def _norm(text) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text))).strip().casefold()


def entity_pairs(obj: dict, reference: dict | None = None) -> Counter:
    """(type, span) multiset of a JSON object; `reference` says which fields are single-valued."""
    pairs: Counter = Counter()
    ref_keys = {_norm(k): v for k, v in (reference or {}).items()}
    for key, value in obj.items():
        k = _norm(key)
        if isinstance(value, list):
            values = [v for v in value if v is not None and _norm(v) != ""]
            if k in ref_keys and not isinstance(ref_keys[k], list) and len(values) > 1:
                values = ["\x00" + "\x00".join(map(str, values))]  # a list where one value was asked
        else:
            values = [] if value is None or _norm(value) == "" else [value]
        for v in values:
            pairs[(k, _norm(v))] += 1
    return pairs


def counts(predicted: dict | None, reference: dict) -> tuple[int, int, int]:
    """(true positives, predicted, gold) for one record; an unparsable prediction predicts nothing."""
    gold = entity_pairs(reference)
    pred = entity_pairs(predicted, reference) if isinstance(predicted, dict) else Counter()
    return sum((pred & gold).values()), sum(pred.values()), sum(gold.values())


def f1_from_counts(tp: int, n_pred: int, n_gold: int) -> float:
    if n_pred == 0 and n_gold == 0:
        return 1.0
    if tp == 0:
        return 0.0
    p, r = tp / n_pred, tp / n_gold
    return 2 * p * r / (p + r)


def micro_f1(predicted: dict | None, reference: dict) -> float:
    """Per-record entity micro-F1."""
    return f1_from_counts(*counts(predicted, reference))


def corpus_micro_f1(predicted: list[dict | None], references: list[dict]) -> float:
    """Micro-F1 over a whole set: true positives, predictions and gold entities summed first."""
    tp = n_pred = n_gold = 0
    for p, r in zip(predicted, references):
        a, b, c = counts(p, r)
        tp, n_pred, n_gold = tp + a, n_pred + b, n_gold + c
    return f1_from_counts(tp, n_pred, n_gold)
