"""Train and held-out slices of the research-use sets in ../shared/datasets (hotel-review sentiment, product
topic with the ten labels in the prompt, MSRA NER as JSON), for `mtsft run --data ... --eval-data ...`.

    python scripts/research_slices.py --out runs/research_data      # train.jsonl, eval.jsonl, counts
    mtsft run --profile demo --data runs/research_data/train.jsonl --with-synth \
        --eval-data runs/research_data/eval.jsonl --out runs/research

These sets are "research use as published" and never ship inside the package: the slices are written to
your run folder, read from ../shared/datasets in place. Each set is imported with bench/real_sets.yaml's
mapping; train and eval never share a source row (build_real_suite's group split, fixed seed).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESEARCH_SETS = ("chnsenticorp_htl_3k.jsonl", "online_shopping_10cats_4k.jsonl", "msra_ner_3k.jsonl")


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def research_slices(n_train: int, n_eval: int) -> dict[str, list[dict]]:
    import random
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    real_sets = _module(ROOT / "bench" / "real_sets.py")
    split_groups = _module(ROOT / "scripts" / "build_real_suite.py").slice_file
    missing = [name for name in RESEARCH_SETS if not (real_sets.DEFAULT_DIR / name).exists()]
    if missing:
        raise SystemExit(f"{real_sets.DEFAULT_DIR}: {', '.join(missing)} not found (see ../shared/datasets/README)")
    by_file: dict[str, list[dict]] = defaultdict(list)
    for r in real_sets.import_real_sets(only=set(RESEARCH_SETS)).kept:
        by_file[Path(r["source"].split(":")[0]).name].append(r)
    out: dict[str, list[dict]] = {"train": [], "eval": []}
    for name in RESEARCH_SETS:
        split = split_groups(name, by_file[name], n_train, n_eval, random.Random(f"research:{name}"))
        for part, rows in split.items():
            out[part] += [{**r, "source": f"{name}:{r['source'].rsplit(':', 1)[-1]}"} for r in rows]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/research_data"))
    parser.add_argument("--train", type=int, default=40, help="train records per set")
    parser.add_argument("--eval", type=int, default=24, help="held-out records per set")
    args = parser.parse_args()
    from mtsft.outputs import OutputRefused, claim_folder, write_jsonl

    try:
        claim_folder(args.out)  # the output rule: never a folder holding files mtsft did not write
    except OutputRefused as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    for part, rows in research_slices(args.train, args.eval).items():
        write_jsonl(args.out / f"{part}.jsonl", rows)
        counts = defaultdict(int)
        for r in rows:
            counts[r["source"].split(":")[0]] += 1
        print(f"{args.out / (part + '.jsonl')}: {dict(counts)}")


if __name__ == "__main__":
    main()
