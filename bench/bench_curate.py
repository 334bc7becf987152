"""Curation speed and memory: 200,000 vs 1,000,000 synth records, end to end (`curate_files`: read,
every round, write kept/rejected/review/manifest/report).

    .venv/bin/python bench/bench_curate.py                 # 200k and 1M (long: run it rarely)
    .venv/bin/python bench/bench_curate.py --sizes 20000 100000

Inputs: `synth_records(BASE)` (messy, with injected defects) replicated to each size. Generating a million
records with the task generators takes longer than curating them, so replica k of a record gets a random
tag appended to its prompt, half as long as the record, seeded by (content, k): replicas are distinct
records (Jaccard to each other < 0.7, so dedup does not fold them back), while duplicates injected in the
base stay duplicates within a replica. Every size is the same mix, so the time ratio measures scaling.
Each size runs in its own process; peak memory is that process's max RSS. Token lengths use the
chars-per-token estimate (the default; the report says so).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import save_result

BASE = 50_000
TAG_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789天地人山水火木金土日月风云雨雪花草鸟鱼"


def replicate(base: list[dict], n: int, out: Path) -> None:
    """Write n records: base records with replica tags (replica 0 is the base itself)."""
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            k, rec = divmod(i, len(base))
            r = json.loads(json.dumps(base[rec]))
            r["id"] = f"{r['id']}-r{k}"
            if k:
                body = "".join(m["content"] for m in r["messages"])
                rng = random.Random(hashlib.sha1(f"{k}:{body}".encode()).hexdigest())
                tag = "".join(rng.choice(TAG_ALPHABET) for _ in range(max(12, len(body) // 2)))
                first_user = next(m for m in r["messages"] if m["role"] == "user")
                first_user["content"] += f"\n[{tag}]"
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def run_one(path: str, out_dir: str) -> None:
    """Child process: curate one file, print a JSON line with seconds and peak RSS."""
    from mtsft.data.classify import load_classifier
    from mtsft.data.config import CurateConfig
    from mtsft.data.curate import curate_files

    load_classifier()  # trained once and cached: not part of the per-record cost
    start = time.perf_counter()
    result = curate_files([path], CurateConfig(), out_dir, log=lambda m: print(m, file=sys.stderr))
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"inputs": result.inputs, "seconds": round(seconds, 1), "peak_gb": round(peak_gb, 2),
                      "rounds": {r["name"]: r["seconds"] for r in result.rounds}}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mtsft-bench-curate")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_one(*args.child)

    from mtsft.tasks.synth import synth_records

    args.work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    base = synth_records(min(BASE, min(args.sizes)), seed=0)
    print(f"base: {len(base):,} synth records in {time.perf_counter() - start:.0f}s")
    results = {}
    for n in args.sizes:
        path = args.work / f"in-{n}.jsonl"
        if not path.exists():
            replicate(base, n, path)
        proc = subprocess.run([sys.executable, __file__, "--child", str(path), str(args.work / f"out-{n}")],
                              stdout=subprocess.PIPE, text=True, check=True)
        results[n] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[n]
        print(f"{n:>9,} records: {r['seconds']:>7.1f}s  {n / r['seconds']:>8,.0f} records/s  "
              f"peak {r['peak_gb']:.2f} GB  rounds {r['rounds']}")
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        ratio = results[big]["seconds"] / results[small]["seconds"]
        print(f"time ratio {big:,} / {small:,} records = {ratio:.2f} (linear would be {big / small:.1f}; "
              f"the target is at most 6 for 1M / 200k)")
    save_result("curate_throughput", {str(n): {**r, "records_per_s": round(n / r["seconds"])} for n, r in results.items()})


if __name__ == "__main__":
    main()
