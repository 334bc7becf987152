"""Task classifier accuracy and calibration on hand-written prompts (zh and en, phrased unlike any template).

    .venv/bin/python bench/bench_classify.py [--file bench/data/classify_heldout.jsonl] [--threshold 0.6]
    .venv/bin/python bench/bench_classify.py --frozen      # the frozen test set -> results/classifier_frozen.json
    .venv/bin/python bench/bench_classify.py --relabel [--n 5000] [--seeds 0]   # -> results/classify_relabel.json

Prints accuracy overall and per language, coverage (share decided) and precision when decided at the
threshold (default: the curation config's), expected calibration error, a threshold table, the confusion
matrix (rows = true task, columns = predicted) and the misclassified prompts. The classifier is the one
`mtsft data curate` uses. `--frozen` reads tests/data/classifier_frozen_v2.jsonl, written by hand and
committed before any tuning: measure on it, never tune on it (v1, measured and tuned around, is a dev set
now: `--file tests/data/classifier_frozen_v1.jsonl`).

`--relabel` measures what the conflicts round's label check (`ClassifyConfig.relabel_ratio`) does with the
classifier on clean synth records, `--n` drawn from the training templates and `--n` from the held-out ones
(`synth_records(clean=True)` and `eval_split=True`) for each seed: the false-alarm rate (a correct label
questioned: another task found `relabel_ratio` times likelier than it) and the recall on mislabels (every
record given the label of the task it is most easily confused with, `synth.CONFUSABLE`). --n 5000 --seeds 0
(the default) takes about ten seconds once the classifier is cached.
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
FROZEN = HERE.parent / "tests" / "data" / "classifier_frozen_v2.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=HERE / "data" / "classify_heldout.jsonl")
    parser.add_argument("--frozen", action="store_true", help=f"measure on {FROZEN.relative_to(HERE.parent)}")
    parser.add_argument("--threshold", type=float, default=None, help="default: ClassifyConfig().threshold")
    parser.add_argument("--relabel", action="store_true", help="label-check false alarms and recall on synth")
    parser.add_argument("--n", type=int, default=5000, help="--relabel: records per seed and wording kind")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="--relabel: synth seeds")
    args = parser.parse_args()
    if args.relabel:
        relabel(args.n, args.seeds)
        return

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


def relabel(n: int, seeds: list[int]) -> None:
    import warnings

    from mtsft.data.classify import load_classifier
    from mtsft.data.config import ClassifyConfig
    from mtsft.records import prompt
    from mtsft.tasks.synth import CONFUSABLE, synth_records

    ratio = ClassifyConfig().relabel_ratio
    clf = load_classifier()

    def questioned(labels, names, confs, label_probs) -> list[bool]:  # as conflicts.check_label_mismatch
        return [p != y and c >= ratio * max(lp, 1e-6) for y, p, c, lp in zip(labels, names, confs, label_probs)]

    out, totals = {}, Counter()
    for kind, held_out in (("training wordings", False), ("held-out wordings", True)):
        alarms, caught, records, pairs = 0, 0, 0, Counter()
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a short held-out split is expected (its prompt space is small)
                recs = (synth_records(n, seed=seed, eval_split=True) if held_out
                        else synth_records(n, seed=seed, clean=True))
            texts, labels = [prompt(r) for r in recs], [r["task"] for r in recs]
            names, confs, _, label_probs = clf.predict(texts, labels)
            flags = questioned(labels, names, confs, label_probs)
            alarms += sum(flags)
            pairs.update((y, p) for y, p, f in zip(labels, names, flags) if f)
            wrong = [CONFUSABLE[y] for y in labels]
            caught += sum(questioned(wrong, names, confs, clf.predict(texts, wrong)[3]))
            records += len(recs)
        totals.update(records=records, alarms=alarms, caught=caught)
        out[kind] = {"records": records, "false_alarm_rate": round(alarms / records, 4),
                     "mislabel_recall": round(caught / records, 4),
                     "top_false_alarms": [f"{y} -> {p}: {k}" for (y, p), k in pairs.most_common(5)]}
        print(f"{kind}: {records:,} clean records, false alarms {alarms} ({alarms / records:.2%}), "
              f"mislabels caught {caught / records:.2%}; most often {out[kind]['top_false_alarms'][:3]}")
    rate, recall = totals["alarms"] / totals["records"], totals["caught"] / totals["records"]
    print(f"all: {totals['records']:,} records, false-alarm rate {rate:.2%} ({totals['alarms']}), "
          f"mislabel recall {recall:.2%}")
    save_result("classify_relabel", {"relabel_ratio": ratio, "n": n, "seeds": seeds, "records": totals["records"],
                                     "false_alarm_rate": round(rate, 4), "false_alarms": totals["alarms"],
                                     "mislabel_recall": round(recall, 4), "by_wording": out})


if __name__ == "__main__":
    main()
