"""The real suite shipped with mtsft: small train and eval slices of permissively licensed public sets
(GSM8K, CMRC2018, Tatoeba zh-en, MBPP, Alpaca zh/en demos, identity), already in the record schema.

Sources, licenses and attribution: DATA_LICENSES.md beside this file. Rebuilt by
`python scripts/build_real_suite.py` from ../shared/datasets; eval and train slices share no source item.
"""

from __future__ import annotations

import json
from importlib.resources import as_file, files

from mtsft.records import read_records


def _index() -> dict:
    return json.loads((files(__name__) / "index.json").read_text(encoding="utf-8"))


def real_sets() -> list[str]:
    return sorted(_index())


def _records(split: str, sets: list[str] | None = None, per_set: int | None = None) -> list[dict]:
    out = []
    for name, entry in sorted(_index().items()):
        if (sets is None or name in sets) and split in entry:
            with as_file(files(__name__) / entry[split]["file"]) as path:
                out += read_records(path)[:per_set]
    return out


def scored_sets() -> list[str]:
    """The sets whose records carry a task and a reference (the alpaca and identity slices are general
    instructions: no verifier, used for replay and the forgetting check)."""
    return sorted(name for name, entry in _index().items() if entry.get("scored"))


def real_eval_records(sets: list[str] | None = None, per_set: int | None = None) -> list[dict]:
    """The eval slices of `sets` (default: every scored set): what `mtsft eval run --suite real` scores."""
    return _records("eval", scored_sets() if sets is None else sets, per_set)


def real_train_records(sets: list[str] | None = None, per_set: int | None = None) -> list[dict]:
    """The train slices (default: every set, the general alpaca/identity ones included, unlabeled)."""
    return _records("train", sets, per_set)


def general_texts() -> list[str]:
    """General held-out text for the forgetting check: the answers of the alpaca eval slices."""
    return [r["messages"][-1]["content"] for r in real_eval_records([s for s in real_sets() if s.startswith("alpaca")])]
