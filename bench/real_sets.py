"""Import every public set in ../shared/datasets with the mappings of real_sets.yaml (read in place).

    python bench/real_sets.py --out /tmp/real.jsonl            # import
    python bench/real_sets.py --out /tmp/real.jsonl --score    # ... and score every reference answer with
                                                               # its task's standard metric (each must be 1.0)
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
        ref["labels"] = list(labels)
    elif post == "ner_fields":
        ref["fields"] = ["PER", "LOC", "ORG"]
    return record


def load_recipes() -> dict:
    return yaml.safe_load((HERE / "real_sets.yaml").read_text(encoding="utf-8"))


def import_real_sets(data_dir: Path = DEFAULT_DIR, only: set[str] | None = None) -> ImportResult:
    """Every set of real_sets.yaml found in `data_dir` (or only the file names in `only`)."""
    recipes = load_recipes()
    total = ImportResult()
    for name, recipe in recipes.items():
        path = data_dir / name
        if not path.exists() or (only is not None and name not in only):
            continue
        post = recipe.get("post")
        for mapping in recipe.get("maps") or [recipe.get("map")]:  # `maps`: one record per row per map
            part = import_files([str(path)], mapping=mapping)
            labels = recipe.get("labels") or sorted({r["reference"]["label"] for r in part.kept
                                                     if post == "category_labels"})
            for record in part.kept:
                _finish(record, post, labels)
            total.kept += part.kept
            total.rejected += part.rejected
            total.files += part.files
    total.check()
    return total


def score_references(records: list[dict], skip: tuple[str, ...] = ()) -> dict[str, dict]:
    """Per set (the file a record came from): n, the task, its metric and the mean score its task's
    verifier gives the set's own reference answer (1.0 when the mapping and the metric agree), plus
    corpus-level figures where the task has them (translation: sacrebleu corpus chrF and BLEU)."""
    from collections import defaultdict

    from mtsft import tasks
    from mtsft.records import response

    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        if r.get("task") and r.get("reference") and r["task"] not in skip:
            name = Path(str(r.get("source", "?")).split(":")[0].split("#")[0]).name
            groups[(name, r["task"])].append(r)
    table = {}
    for (name, task_name), recs in sorted(groups.items()):
        task = tasks.get(task_name)
        outputs = [response(r) for r in recs]
        scores = [task.score(o, r) for o, r in zip(outputs, recs)]
        row = {"task": task_name, "metric": getattr(task, "metric", "verifier"), "n": len(recs),
               "mean": sum(scores) / len(scores), "below_1": sum(s < 0.999 for s in scores)}
        if hasattr(task, "corpus_scores"):
            row["corpus"] = task.corpus_scores(outputs, recs)
        key = name if sum(k[0] == name for k in groups) == 1 else f"{name}:{task_name}"
        table[key] = row
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--score", action="store_true", help="score every reference with its task's metric")
    parser.add_argument("--skip", action="append", default=[], help="a task not to score (e.g. code: slow)")
    args = parser.parse_args()
    from mtsft.importers import sidecar
    from mtsft.records import write_jsonl

    result = import_real_sets(args.data_dir)
    write_jsonl(args.out, result.kept)
    write_jsonl(sidecar(args.out, "rejected.jsonl"), result.rejected)
    for f in result.files:
        print(f"{Path(f.path).name:34s} {f.format:9s} inputs={f.inputs:6d} kept={f.kept:6d} rejected={f.rejected:5d}")
    print(f"total inputs={result.inputs} kept={len(result.kept)} rejected={len(result.rejected)} -> {args.out}")
    if args.score:
        print(f"\n{'set':34s} {'task':22s} {'metric':22s} {'n':>6s} {'mean':>7s} {'<1':>5s}  corpus")
        for name, row in score_references(result.kept, tuple(args.skip)).items():
            corpus = " ".join(f"{k}={v:.4f}" for k, v in row.get("corpus", {}).items())
            print(f"{name:34s} {row['task']:22s} {row['metric']:22s} {row['n']:6d} {row['mean']:7.4f} "
                  f"{row['below_1']:5d}  {corpus}")
