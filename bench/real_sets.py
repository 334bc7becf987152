"""Import every public set in ../shared/datasets with the mappings of real_sets.yaml (read in place).

    python bench/real_sets.py --out /tmp/real.jsonl
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from mtsft.importers import ImportResult, import_files

HERE = Path(__file__).parent
DEFAULT_DIR = HERE.parent.parent / "shared" / "datasets"


SENTIMENT = {0: "负面", 1: "正面"}


def _finish(record: dict, post: str | None, labels: list[str]) -> dict:
    ref = record.get("reference") or {}
    if post == "gsm8k_value":
        number = ref["answer"].rsplit("####", 1)[-1].strip().replace(",", "")
        ref["value"] = float(number) if "." in number else int(number)
    elif post == "sentiment_text":  # the files hold 0/1; the model should answer in words
        ref["label"] = ref["answer"] = record["messages"][-1]["content"] = SENTIMENT[int(ref["label"])]
        ref["labels"] = list(SENTIMENT.values())
    elif post == "category_labels":
        ref["labels"] = labels
    elif post == "ner_fields":
        ref["fields"] = ["PER", "LOC", "ORG"]
    return record


def import_real_sets(data_dir: Path = DEFAULT_DIR) -> ImportResult:
    recipes = yaml.safe_load((HERE / "real_sets.yaml").read_text(encoding="utf-8"))
    total = ImportResult()
    for name, recipe in recipes.items():
        path = data_dir / name
        if not path.exists():
            continue
        post = recipe.get("post")
        part = import_files([str(path)], mapping=recipe.get("map"))
        labels = sorted({r["reference"]["label"] for r in part.kept if post == "category_labels"})
        for record in part.kept:
            _finish(record, post, labels)
        total.kept += part.kept
        total.rejected += part.rejected
        total.files += part.files
    total.check()
    return total


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from mtsft.importers import sidecar
    from mtsft.records import write_jsonl

    result = import_real_sets(args.data_dir)
    write_jsonl(args.out, result.kept)
    write_jsonl(sidecar(args.out, "rejected.jsonl"), result.rejected)
    for f in result.files:
        print(f"{Path(f.path).name:34s} {f.format:9s} inputs={f.inputs:6d} kept={f.kept:6d} rejected={f.rejected:5d}")
    print(f"total inputs={result.inputs} kept={len(result.kept)} rejected={len(result.rejected)} -> {args.out}")
