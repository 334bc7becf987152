"""Do two versions of the curation keep and reject the same records? Record for record, on one input.

    git worktree add /tmp/old 9187af8
    python bench/compare_curate.py INPUT.jsonl --old /tmp/old/src [--workers 1 2] [--work DIR]

Runs `curate_files` once with the code in --old (a `src` folder; PYTHONPATH) and once per worker count with
the code this interpreter imports, every round on and the verifier uncapped (as bench_curate.py), then
compares: kept ids, rejected (id, round, reason), and, between the new runs, kept.jsonl byte for byte.
Each difference is printed with the record's id, prompt start and both outcomes, so it can be explained.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import sys, json
sys.path.insert(0, {bench!r})
from bench_curate import bench_config
from mtsft.data.curate import curate_files
cfg = bench_config(True, {workers})
curate_files([{inp!r}], cfg, {out!r}, log=lambda m: print(m, file=sys.stderr))
"""


def run(src: str | None, inp: str, out: Path, workers: int | None) -> None:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    code = CHILD.format(bench=str(HERE), workers=workers, inp=inp, out=str(out))
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def outcomes(out: Path) -> dict[str, tuple]:
    """id -> ("kept",) or ("rejected", round, reason); up-sampled copies left out (balance adds them)."""
    result = {}
    for line in open(out / "kept.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if "upsampled" not in r.get("meta", {}):
            result[r["id"]] = ("kept",)
    for line in open(out / "rejected.jsonl", encoding="utf-8"):
        r = json.loads(line)
        rej = r.get("meta", {}).get("rejected", {})
        result[r["id"]] = ("rejected", rej.get("round"), rej.get("reason"))
    return result


def prompts(inp: str) -> dict[str, str]:
    out = {}
    for line in open(inp, encoding="utf-8"):
        r = json.loads(line)
        user = next((m["content"] for m in r.get("messages", []) if m.get("role") == "user"), "")
        out[r.get("id")] = user[:70].replace("\n", " ")
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("--old", required=True, help="the older code's src folder")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--work", type=Path, default=Path(tempfile.mkdtemp(prefix="mtsft-compare-")))
    args = parser.parse_args()
    run(args.old, args.input, args.work / "old", None)
    old = outcomes(args.work / "old")
    new_runs = {}
    for w in args.workers:
        run(None, args.input, args.work / f"new-w{w}", w)
        new_runs[w] = outcomes(args.work / f"new-w{w}")
    first = args.workers[0]
    digests = {w: digest(args.work / f"new-w{w}" / "kept.jsonl") for w in args.workers}
    print(f"kept.jsonl sha256 per worker count: {digests} -> "
          f"{'identical' if len(set(digests.values())) == 1 else 'DIFFERENT'}")
    for w in args.workers[1:]:
        if new_runs[w] != new_runs[first]:
            print(f"outcomes differ between {first} and {w} workers")
    new = new_runs[first]
    diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    print(f"records: old {len(old):,}, new {len(new):,}; same outcome: {len(old) - len(diff):,}; different: {len(diff):,}")
    kinds = Counter((old.get(k), new.get(k)) for k in diff)
    for (a, b), n in kinds.most_common():
        print(f"  {n:>6,}  old {a} -> new {b}")
    text = prompts(args.input)
    for k in diff[:40]:
        print(f"  {k}: old {old.get(k)} new {new.get(k)}  \"{text.get(k, '?')}\"")
    print(f"outputs under {args.work}")


if __name__ == "__main__":
    main()
