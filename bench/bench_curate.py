"""Curation speed and memory on inputs that look like real data, every round on, end to end
(`curate_files`: read, every round, write kept/rejected/review/manifest/report).

    .venv/bin/python bench/bench_curate.py                      # 200k and 1M (long: run it alone, rarely)
    .venv/bin/python bench/bench_curate.py --sizes 20000        # a quick look
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/bench_curate.py --sizes 200000 --tag before
                                                                # the same bench against older code
    git worktree add /tmp/old 9afea75
    .venv/bin/python bench/bench_curate.py --sizes 200000 --modes off --baseline /tmp/old/src --tag speed
                                                                # older code first, then this code, in one
                                                                # run: the speed-up, and kept/rejected.jsonl
                                                                # compared byte for byte

The input (cached under --work, keyed by size, seed and this file's INPUT_VERSION):
- 2.5% real records (`../shared/datasets`, imported with bench/real_sets.py; a fixed share at every size,
  drawn without repeats: 26,949 real records cover 1M);
- the rest synth records (`synth_records`) from many seeds, 10,000 per seed, each chunk with the synth
  defect mix (duplicates, conflicts, empty/truncated/wrong-language answers, mislabels, refusals, chatty
  code) injected at the same rates. Synth content runs out across seeds (the templates and content
  tables are finite), so a clean record whose conversation an earlier seed already produced is skipped:
  no record is a copy, and no noise tag makes one look new. The input's own exact-duplicate rate (the
  injected ones) is measured and printed;
- half of all records lose their `task` (unlabeled: the classifier must label them).

Every round is on: classification, quality with every task's verifier and no probe cap (code answers run
their unit tests in the sandbox, in the curation's worker processes where the code has them), conflicts,
exact and near dedup, balance, validate. Token counts come from the embedded model's fast tokenizer.
Code execution costs tens of milliseconds per record, so it is also run without it (`--modes`), and both
rates are printed. Each run is its own process; peak memory is the highest summed RSS and PSS of that process and
its workers (PSS counts pages shared with forked workers once), sampled every 0.5 s. The code under test is whatever `mtsft` imports (PYTHONPATH decides);
options the older code lacks (`workers`, `quality.run_code`) are detected and left out. `--engine ray` runs the
same rounds on a local Ray Data instance with this machine's CPUs (its start counts in the time).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from results import DATASETS, save_result

INPUT_VERSION = 1
REAL_SHARE = 0.025
CHUNK = 10_000
UNLABELED_SHARE = 0.5
ADDED_DEFECTS = ("exact_duplicate", "near_duplicate", "conflict")


# ---- the input -----------------------------------------------------------------------------------

def real_pool(seed: int) -> list[dict]:
    """The real sets, shuffled once by `seed` (relative path: the data sits beside the repository)."""
    from real_sets import import_real_sets

    records = import_real_sets(DATASETS).kept
    random.Random(f"real-{seed}").shuffle(records)
    return records


def _key(record: dict) -> bytes:
    text = "\n".join(f"{m['role']}: {m['content']}" for m in record["messages"])
    return hashlib.sha1(" ".join(text.split()).lower().encode()).digest()


def _unlabel(record: dict, rng: random.Random) -> dict:
    if rng.random() < UNLABELED_SHARE:
        record.pop("task", None)
    return record


def build_input(n: int, seed: int, path: Path) -> dict:
    """Write n records to `path` (chunk by chunk, so a million never sit in memory); return its stats."""
    from mtsft.tasks.synth import synth_records

    real = real_pool(seed)
    n_real = int(round(n * REAL_SHARE))
    if n_real > len(real):
        raise ValueError(f"{n:,} records need {n_real:,} real ones; {DATASETS} holds {len(real):,}")
    seen: set[bytes] = set()
    stats = {"records": 0, "real": n_real, "unlabeled": 0, "skipped_cross_seed_copies": 0, "exact_duplicates": 0,
             "defects": {}, "seeds": 0}
    rng = random.Random(f"unlabel-{seed}")
    real_left = real[:n_real]
    with open(path.with_suffix(".tmp"), "w", encoding="utf-8") as f:
        chunk_seed = seed * 100_000
        while stats["records"] < n:
            want = min(CHUNK, n - stats["records"])
            n_real_here = min(len(real_left), int(round(want * REAL_SHARE)) if stats["records"] + want < n else len(real_left))
            rows, real_left = real_left[:n_real_here], real_left[n_real_here:]
            for r in synth_records(CHUNK, seed=chunk_seed):
                defect = r.get("meta", {}).get("defect")
                k = _key(r)
                if k in seen:
                    if defect not in ADDED_DEFECTS:  # an earlier seed's clean record again: not a new record
                        stats["skipped_cross_seed_copies"] += 1
                        continue
                    stats["exact_duplicates"] += 1
                seen.add(k)
                if defect:
                    stats["defects"][defect] = stats["defects"].get(defect, 0) + 1
                rows.append(r)
                if len(rows) >= want:
                    break
            chunk_seed += 1
            stats["seeds"] += 1
            random.Random(f"order-{chunk_seed}").shuffle(rows)
            for r in rows:
                _unlabel(r, rng)
                stats["unlabeled"] += "task" not in r
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            stats["records"] += len(rows)
    path.with_suffix(".tmp").rename(path)
    stats["exact_duplicate_rate"] = round(stats["exact_duplicates"] / max(stats["records"], 1), 4)
    return stats


def cached_input(n: int, seed: int, work: Path) -> tuple[Path, dict]:
    path = work / f"in-{n}-seed{seed}-v{INPUT_VERSION}.jsonl"
    meta = path.with_suffix(".stats.json")
    if not (path.exists() and meta.exists()):
        start = time.perf_counter()
        stats = build_input(n, seed, path)
        stats["build_seconds"] = round(time.perf_counter() - start, 1)
        meta.write_text(json.dumps(stats, indent=1))
    return path, json.loads(meta.read_text())


# ---- one run, in its own process -------------------------------------------------------------------

def code_version(src: Path) -> str:
    """The code under test as its git commit (a machine's path would mean nothing elsewhere)."""
    try:
        commit = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


class PeakRSS:
    """Highest summed RSS, and highest summed PSS, of this process and its children (the worker pool),
    sampled on a thread. Forked workers share the parent's pages copy-on-write, so summed RSS counts those
    pages once per worker; PSS splits each shared page among its sharers, so summed PSS is the physical
    memory the run holds (Linux only; `peak_pss` stays 0 where PSS cannot be read)."""

    def __init__(self, every: float = 0.5):
        import psutil

        self.proc, self.every, self.peak, self.peak_pss, self._stop = psutil.Process(), every, 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> tuple[int, int]:
        rss = pss = 0
        for proc in [self.proc, *self.proc.children(recursive=True)]:
            try:
                rss += proc.memory_info().rss
                pss += getattr(proc.memory_full_info(), "pss", 0)
            except Exception:  # a worker that ended between listing and reading
                pass
        return rss, pss

    def _take(self):
        rss, pss = self._sample()
        self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)

    def _run(self):
        while not self._stop.is_set():
            self._take()
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._take()


def bench_config(run_code: bool, workers: int | None):
    """Every round on, the verifier uncapped; new options only where the code under test has them."""
    from mtsft.data.config import CurateConfig, QualityConfig

    quality = {"verifier_budget_ms": 1e9}  # no probe cap: every record meets its verifier
    if "run_code" in QualityConfig.model_fields:
        quality["run_code"] = run_code
    elif not run_code:
        quality["verifier_budget_ms"] = 2.0  # older code: the probe cap skips code after 20 records
    cfg = {"tokenizer": "builtin", "progress": False, "quality": quality}
    if workers is not None and "workers" in CurateConfig.model_fields:
        cfg["workers"] = workers
    return CurateConfig.model_validate(cfg)


def run_one(path: str, out_dir: str, run_code: bool, workers: int | None, engine: str = "local") -> None:
    """Child process: curate one file, print a JSON line with seconds, rounds and peak RSS."""
    from mtsft.data.classify import load_classifier
    from mtsft.data.curate import curate_files
    from mtsft.model import load_tokenizer

    # Trained once and cached, with the argument the classify round passes (the config's, so the round's
    # call hits the same cache entry rather than loading again): not per-record cost.
    load_classifier(bench_config(run_code, workers).classify.train_per_task_lang)
    load_tokenizer("builtin")  # the model cache built once: not part of the per-record cost
    cfg = bench_config(run_code, workers)
    with PeakRSS() as mem:
        start = time.perf_counter()
        if engine == "ray":  # a local Ray instance with this machine's CPUs; starting it counts in the time
            from mtsft.data.engine_ray import curate_ray

            result = curate_ray([path], cfg, out_dir, num_cpus=os.cpu_count(),
                                log=lambda m: print(m, file=sys.stderr))
        else:
            result = curate_files([path], cfg, out_dir, log=lambda m: print(m, file=sys.stderr))
        seconds = time.perf_counter() - start
    rounds = {r["name"]: r["seconds"] for r in result.rounds}
    dedup = next((r.get("notes", {}) for r in result.rounds if r["name"] == "dedup"), {})
    print(json.dumps({"inputs": result.inputs, "seconds": round(seconds, 1), "peak_gb": round(mem.peak / 1024**3, 2),
                      "peak_pss_gb": round(mem.peak_pss / 1024**3, 2),
                      "rounds": rounds, "kept": len(result.kept) - result.upsampled, "rejected": len(result.rejected),
                      "exact_duplicates_found": dedup.get("exact_duplicates"),
                      "near_duplicates_found": dedup.get("near_duplicates"),
                      "workers": getattr(cfg, "workers", None), "run_code": run_code, "engine": engine}))


def _print_run(n: int, mode: str, r: dict) -> None:
    per_round = "  ".join(f"{k} {n / max(v, 1e-3):,.0f}/s ({v:.1f}s)" for k, v in r["rounds"].items())
    print(f"{n:>9,} records, code execution {mode:>3}: {r['seconds']:>7.1f}s  {n / r['seconds']:>7,.0f} records/s "
          f"end to end  peak {r['peak_gb']:.2f} GB summed RSS, {r.get('peak_pss_gb', 0):.2f} GB summed PSS\n          per round: {per_round}", flush=True)


def _child(path: Path, out: Path, mode: str, workers: int | None, engine: str, src: str | None = None) -> dict:
    """One curation in its own process; `src` (a `src` folder of older code) goes first on PYTHONPATH."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), str(out), mode,
                           "-" if workers is None else str(workers), engine],
                          stdout=subprocess.PIPE, text=True, check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same_files(a: Path, b: Path) -> dict[str, bool]:
    return {name: (a / name).read_bytes() == (b / name).read_bytes() for name in ("kept.jsonl", "rejected.jsonl")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", nargs="+", choices=["on", "off"], default=["on", "off"],
                        help="code execution on (the honest figure) and off (what the rest of curation costs)")
    parser.add_argument("--workers", type=int, default=None, help="curation workers (default: the config's)")
    parser.add_argument("--tag", default="", help="suffix for the result file (e.g. before)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mtsft-bench-curate")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="ray: the same rounds on a local Ray Data instance (pip install mtsft[ray])")
    parser.add_argument("--baseline", metavar="SRC", default=None,
                        help="a `src` folder of older code (git worktree add /tmp/old COMMIT): each size and mode "
                             "runs with it first, then with this code; prints the speed-up and whether "
                             "kept.jsonl and rejected.jsonl are byte-identical")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, out, mode, workers, engine = args.child
        return run_one(path, out, mode == "on", None if workers == "-" else int(workers), engine)

    import mtsft

    code_under_test = code_version(Path(mtsft.__file__).resolve().parents[1])
    print(f"code under test: {code_under_test}")
    args.work.mkdir(parents=True, exist_ok=True)
    results = {}
    for n in args.sizes:
        path, stats = cached_input(n, args.seed, args.work)
        print(f"input {n:,}: {stats['real']:,} real + {n - stats['real']:,} synth from {stats['seeds']} seeds, "
              f"{stats['unlabeled']:,} unlabeled, own exact-duplicate rate {stats['exact_duplicate_rate']:.1%} "
              f"(injected; {stats['skipped_cross_seed_copies']:,} cross-seed copies skipped while building), "
              f"defects {stats['defects']}", flush=True)
        results[n] = {"input": stats}
        for mode in args.modes:
            out = args.work / f"out-{n}-{mode}{'-' + args.tag if args.tag else ''}"
            if args.baseline:
                base = _child(path, out.with_name(out.name + "-baseline"), mode, args.workers, args.engine, args.baseline)
                base["records_per_s"] = round(n / base["seconds"])
                base["code_under_test"] = code_version(Path(args.baseline).resolve())
                results[n][f"baseline_code_{mode}"] = base
                print(f"baseline ({base['code_under_test']}):", flush=True)
                _print_run(n, mode, base)
            r = _child(path, out, mode, args.workers, args.engine)
            r["records_per_s"] = round(n / r["seconds"])
            results[n][f"code_{mode}"] = r
            _print_run(n, mode, r)
            if args.baseline:
                r["speedup_vs_baseline"] = round(base["seconds"] / r["seconds"], 2)
                r["identical_to_baseline"] = same = _same_files(out.with_name(out.name + "-baseline"), out)
                print(f"          {r['speedup_vs_baseline']:.2f}x the baseline's records/s in this run; "
                      + ", ".join(f"{k} {'byte-identical' if v else 'DIFFERS'}" for k, v in same.items()), flush=True)
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        for mode in args.modes:
            ratio = results[big][f"code_{mode}"]["seconds"] / results[small][f"code_{mode}"]["seconds"]
            results[f"ratio_{mode}"] = round(ratio, 2)
            print(f"code execution {mode}: time ratio {big:,} / {small:,} records = {ratio:.2f} "
                  f"(linear {big / small:.1f}; the target is at most 6 for 1M / 200k)")
    results["code_under_test"] = code_under_test
    save_result("curate_throughput" + (f"_{args.tag}" if args.tag else ""),
                {str(k): v for k, v in results.items()})


if __name__ == "__main__":
    main()
