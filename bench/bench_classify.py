"""Task classifier accuracy on hand-written held-out prompts (zh and en, phrased unlike any template).

    .venv/bin/python bench/bench_classify.py [--file bench/data/classify_heldout.jsonl] [--threshold 0.5]

Prints accuracy overall and per language, the share left `uncertain`, the confusion matrix (rows = true
task, columns = predicted) and the misclassified prompts. The classifier is the one `mtsft data curate`
uses (registry signals + char n-gram model trained on registry-generated prompts).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from results import save_result

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=HERE / "data" / "classify_heldout.jsonl")
    parser.add_argument("--threshold", type=float, default=0.2)
    args = parser.parse_args()

    from sklearn.metrics import confusion_matrix

    from mtsft.data.classify import load_classifier

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
    print(f"below threshold {args.threshold} (would be 'uncertain'): {sum(c < args.threshold for c in confs)}")
    print(f"decided by: {dict(Counter(methods))}")

    labels = sorted(set(truth) | set(names))
    matrix = confusion_matrix(truth, names, labels=labels)
    short = [name[:6] for name in labels]
    print("\nconfusion (rows = true, columns = predicted)")
    print(" " * 22 + " ".join(f"{s:>6}" for s in short))
    for name, row in zip(labels, matrix):
        print(f"{name:>22}" + " ".join(f"{v:>6}" if v else "     ." for v in row))
    decided = [i for i, c in enumerate(confs) if c >= args.threshold]
    save_result(f"classify_{args.file.stem}", {
        "file": str(args.file.relative_to(HERE.parent)) if args.file.is_relative_to(HERE.parent) else str(args.file),
        "prompts": len(rows), "accuracy": round(sum(correct) / len(rows), 4), "threshold": args.threshold,
        "coverage": round(len(decided) / len(rows), 4),
        "precision_when_decided": round(sum(correct[i] for i in decided) / max(len(decided), 1), 4)})
    print("\nmisclassified:")
    for r, p, c in zip(rows, names, confs):
        if p != r["task"]:
            print(f"  [{r['lang']}] {r['task']} -> {p} ({c:.2f}): {r['prompt'][:70]!r}")


if __name__ == "__main__":
    main()
