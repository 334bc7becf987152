"""Task classifier accuracy and calibration on hand-written prompts (zh and en, phrased unlike any template).

    .venv/bin/python bench/bench_classify.py [--file bench/data/classify_heldout.jsonl] [--threshold 0.7]
    .venv/bin/python bench/bench_classify.py --frozen      # the frozen test set -> results/classifier_frozen.json

Prints accuracy overall and per language, coverage (share decided) and precision when decided at the
threshold (default: the curation config's), expected calibration error, a threshold table, the confusion
matrix (rows = true task, columns = predicted) and the misclassified prompts. The classifier is the one
`mtsft data curate` uses. `--frozen` reads tests/data/classifier_frozen_v1.jsonl, written by hand and
committed before any tuning: measure on it, never tune on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

from results import save_result

HERE = Path(__file__).parent
FROZEN = HERE.parent / "tests" / "data" / "classifier_frozen_v1.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=HERE / "data" / "classify_heldout.jsonl")
    parser.add_argument("--frozen", action="store_true", help=f"measure on {FROZEN.relative_to(HERE.parent)}")
    parser.add_argument("--threshold", type=float, default=None, help="default: ClassifyConfig().threshold")
    args = parser.parse_args()

    from sklearn.metrics import confusion_matrix

    from mtsft.data.classify import load_classifier, selective_scores
    from mtsft.data.config import ClassifyConfig

    if args.frozen:
        args.file = FROZEN
    if args.threshold is None:
        args.threshold = ClassifyConfig().threshold

    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = time.perf_counter()
    clf = load_classifier()
    loaded = time.perf_counter() - start
    names, confs, methods, _ = clf.predict([r["prompt"] for r in rows])
    truth = [r["task"] for r in rows]
    correct = [p == t for p, t in zip(names, truth)]
    print(f"{len(rows)} held-out prompts from {args.file} (classifier ready in {loaded:.1f}s)")
    print(f"accuracy: {sum(correct) / len(rows):.1%}")
    for lang in sorted({r["lang"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["lang"] == lang]
        print(f"  {lang}: {sum(correct[i] for i in idx) / len(idx):.1%} of {len(idx)}")
    scores = selective_scores(confs, correct, args.threshold)
    print(f"threshold {args.threshold}: coverage {scores['coverage']:.1%}, precision when decided "
          f"{scores['precision_when_decided']:.1%}, expected calibration error {scores['ece']:.3f}")
    table = [selective_scores(confs, correct, t) for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)]
    for row in table:
        print(f"  threshold {row['threshold']}: coverage {row['coverage']:.1%}, precision {row['precision_when_decided']:.1%}")
    print(f"decided by: {dict(Counter(methods))}")

    labels = sorted(set(truth) | set(names))
    matrix = confusion_matrix(truth, names, labels=labels)
    short = [name[:6] for name in labels]
    print("\nconfusion (rows = true, columns = predicted)")
    print(" " * 22 + " ".join(f"{s:>6}" for s in short))
    for name, row in zip(labels, matrix):
        print(f"{name:>22}" + " ".join(f"{v:>6}" if v else "     ." for v in row))
    by_lang = {lang: selective_scores([confs[i] for i, r in enumerate(rows) if r["lang"] == lang],
                                      [correct[i] for i, r in enumerate(rows) if r["lang"] == lang], args.threshold)
               for lang in sorted({r["lang"] for r in rows})}
    save_result("classifier_frozen" if args.frozen else f"classify_{args.file.stem}", {
        "file": str(args.file.relative_to(HERE.parent)) if args.file.is_relative_to(HERE.parent) else str(args.file),
        "sha256": hashlib.sha256(args.file.read_bytes()).hexdigest(), **scores, "by_lang": by_lang,
        "targets": {"coverage": 0.90, "precision_when_decided": 0.95, "ece": 0.05},
        "threshold_table": [{k: row[k] for k in ("threshold", "coverage", "precision_when_decided")} for row in table],
        "temperature": round(clf.models["temperature"], 4), "classifier_ready_s": round(loaded, 1)})
    print("\nmisclassified:")
    for r, p, c in zip(rows, names, confs):
        if p != r["task"]:
            print(f"  [{r['lang']}] {r['task']} -> {p} ({c:.2f}): {r['prompt'][:70]!r}")


if __name__ == "__main__":
    main()
