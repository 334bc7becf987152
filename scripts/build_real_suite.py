"""Build the real suite shipped inside the package: small train and eval slices of the permissively
licensed sets in ../shared/datasets, imported with bench/real_sets.yaml's mappings.

    python scripts/build_real_suite.py            # writes src/mtsft/datasets/*.jsonl and index.json

Slices are drawn with a fixed seed; eval and train never share a source item (a tatoeba pair, a CMRC
passage, a GSM8K problem, an MBPP task). The research-use sets (ChnSentiCorp, online shopping, MSRA NER)
are never shipped: tests and benchmarks read them from ../shared/datasets.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from real_sets import DEFAULT_DIR, import_real_sets  # noqa: E402

OUT = ROOT / "src" / "mtsft" / "datasets"
# file -> (train records, eval records, license); the eval slice is what `mtsft eval run --suite real` scores.
SLICES = {
    "gsm8k_train.jsonl": (240, 60, "MIT"),
    "cmrc2018_trial.jsonl": (200, 60, "CC BY-SA 4.0"),
    "tatoeba_zh_en_3k.jsonl": (300, 60, "CC-BY 2.0 FR"),
    "mbpp_train.jsonl": (200, 60, "CC-BY-4.0"),
    "alpaca_en_demo.jsonl": (200, 60, "Apache-2.0"),
    "alpaca_zh_demo.jsonl": (200, 60, "Apache-2.0"),
    "identity.jsonl": (60, 0, "Apache-2.0"),
}
MAX_BYTES = 5 * 1024 * 1024
IDENTITY = {"{{name}}": "mtsft", "{{author}}": "the mtsft developers"}  # identity.json's placeholders


def fill_identity(record: dict) -> dict:
    for m in record["messages"]:
        for placeholder, value in IDENTITY.items():
            m["content"] = m["content"].replace(placeholder, value)
    return record


def group_key(record: dict) -> str:
    """What must not straddle train and eval: the source item a record was made from."""
    ref = record.get("reference") or {}
    if isinstance(ref, dict) and ref.get("passage"):
        return "passage:" + ref["passage"][:200]
    return "line:" + record["source"].rsplit(":", 1)[0] + ":" + str(record.get("meta", {}).get("pair") or
                                                                    record["source"].rsplit(":", 1)[-1])


def slice_file(name: str, records: list[dict], n_train: int, n_eval: int, rng: random.Random) -> dict[str, list]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[group_key(r)].append(r)
    keys = sorted(groups)
    rng.shuffle(keys)
    split = {"eval": [], "train": []}
    for key in keys:
        part = "eval" if len(split["eval"]) < n_eval else "train"
        if part == "train" and len(split["train"]) >= n_train:
            break
        split[part] += groups[key]
    return split


def main() -> None:
    from mtsft.importers import known_tasks

    if not known_tasks():
        raise SystemExit("the task registry does not load: the files' task labels would not be trusted")
    result = import_real_sets(DEFAULT_DIR)
    by_file: dict[str, list[dict]] = defaultdict(list)
    for r in result.kept:
        name = Path(r["source"].split(":")[0]).name
        by_file[name].append(fill_identity(r) if name == "identity.jsonl" else r)
    OUT.mkdir(parents=True, exist_ok=True)
    index, total = {}, 0
    for name, (n_train, n_eval, license_) in SLICES.items():
        split = slice_file(name, by_file[name], n_train, n_eval, random.Random(f"real-suite:{name}"))
        stem = name.removesuffix(".jsonl")
        for part, rows in split.items():
            if not rows:
                continue
            path = OUT / f"{stem}.{part}.jsonl"
            with open(path, "w", encoding="utf-8") as f:
                for r in rows:
                    source = f"{name}:{r['source'].rsplit(':', 1)[-1]}"  # no machine path in the package
                    f.write(json.dumps({**r, "source": source, "meta": {**r.get("meta", {}), "split": part}},
                                       ensure_ascii=False) + "\n")
            total += path.stat().st_size
            entry = index.setdefault(stem, {"license": license_, "scored": all(r.get("task") for r in rows)})
            entry[part] = {"file": path.name, "records": len(rows)}
        print(f"{name:30s} train {len(split['train']):4d}  eval {len(split['eval']):4d}  ({license_})")
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    print(f"{total / 1e6:.2f} MB in {OUT}")
    if total > MAX_BYTES:
        raise SystemExit(f"the shipped slices are {total / 1e6:.1f} MB, over the 5 MB budget: shrink SLICES")


if __name__ == "__main__":
    main()
