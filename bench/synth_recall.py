"""Defect recall of a curation run on `mtsft data synth` output, measured against `meta.defect`.

    mtsft data synth --n 5000 --out /tmp/synth.jsonl
    mtsft data curate /tmp/synth.jsonl --strategy temperature --out /tmp/cur
    .venv/bin/python bench/synth_recall.py /tmp/synth.jsonl /tmp/cur

A defect counts as flagged when its record was rejected (any round, review included) or relabelled. For a
conflict pair either record may be the one set aside; both views are printed. Also prints false alarms
(clean records rejected, balance's down-sampling aside) and the largest/smallest task ratio of kept.jsonl.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(synth_path: str, out_dir: str) -> None:
    inputs = read(Path(synth_path))
    out = Path(out_dir)
    kept, rejected = read(out / "kept.jsonl"), read(out / "rejected.jsonl")
    rejected_by = {r["id"]: r["meta"]["rejected"] for r in rejected}
    relabelled = {r["id"] for r in kept if r["meta"].get("curate", {}).get("relabelled_from")}
    flagged = {i for i, rej in rejected_by.items() if rej["round"] != "balance"} | relabelled

    by_kind = defaultdict(list)
    for r in inputs:
        by_kind[r["meta"].get("defect", "clean")].append(r)
    print(f"{len(inputs):,} inputs, {len(kept):,} kept (copies included), {len(rejected):,} rejected")
    print(f"{'defect':<18}{'n':>6}{'flagged':>9}{'recall':>8}  how")
    for kind, recs in sorted(by_kind.items()):
        if kind == "clean":
            continue
        hits = [r for r in recs if r["id"] in flagged]
        how = Counter(rejected_by[r["id"]]["reason"] if r["id"] in rejected_by else "relabelled" for r in hits)
        print(f"{kind:<18}{len(recs):>6}{len(hits):>9}{len(hits) / len(recs):>8.1%}  {dict(how.most_common(3))}")
        link = {"conflict": "conflict_with", "exact_duplicate": "duplicate_of", "near_duplicate": "duplicate_of"}.get(kind)
        if link:
            pair = sum(r["id"] in flagged or r["meta"][link] in flagged for r in recs)
            print(f"{'  ... pair':<18}{len(recs):>6}{pair:>9}{pair / len(recs):>8.1%}  (either record of the pair)")
    clean = by_kind.get("clean", [])
    false_alarms = Counter(rejected_by[r["id"]]["reason"] for r in clean if r["id"] in flagged and r["id"] in rejected_by)
    print(f"clean records flagged: {sum(false_alarms.values())} of {len(clean):,} {dict(false_alarms.most_common(6))}")
    counts = Counter(r["task"] for r in kept)
    big, small = max(counts, key=counts.get), min(counts, key=counts.get)
    print(f"kept per task: {dict(sorted(counts.items()))}")
    print(f"largest/smallest task: {big} {counts[big]} / {small} {counts[small]} = {counts[big] / counts[small]:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
