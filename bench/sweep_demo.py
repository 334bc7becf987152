"""The demo recipe sweep (issue 30.1): which training recipe makes the embedded 135M model better than base
on the demo's own data, within the demo's time and memory budget.

    python bench/sweep_demo.py                         # screen every point, then confirm the best three
    python bench/sweep_demo.py --stage screen          # screening only (resumable: finished points are kept)
    python bench/sweep_demo.py --stage confirm --confirm B,D,G
    python bench/sweep_demo.py --points A,B --stage screen

Every point trains on the same curated demo data (the demo's data stage and curation, done once under
OUT/prep) and is scored on a *dev draw*: built-in records drawn with another eval seed (DEV_SEED) with every
prompt of the demo's own eval draw removed, and real records from ../shared/datasets that neither the shipped
eval slices nor the shipped train slices contain (no source item shared). The demo's eval records and the
frozen test sets are never scored here.

Two levels of scoring, each against the base model on the very same records (paired intervals: prompts
resampled):
- screen:  8 built-in records per task and 12 per real set, answers capped at 64 tokens (a cheap proxy);
- confirm: 24 per task and 24 per real set at the demo's answer cap, plus the diagnosis (crosstalk and format
           as the rise over base, general perplexity) on those outputs.

One folder per point (OUT/points/NAME): train/ (the adapter or model), screen/, confirm/ and point.json with
the training time and the peak memory (summed PSS of the point's process tree). A rerun skips whatever a
point already has. Timings hold only on a machine doing nothing else.

Results: bench/results/sweep_demo.json, and the table printed at the end (the README's sweep table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "scripts")]

from demo_floor import floor_checks, fmt, paired_table  # noqa: E402

DEV_SEED = 1000
LEVELS = {"screen": {"per_task": 8, "per_set": 12, "max_new_tokens": 64},
          "confirm": {"per_task": 24, "per_set": 24, "max_new_tokens": None}}   # None: the demo's cap
# A fractional design over the issue's grid (lr 2e-4..2e-3; LoRA r16/r64 or full; 1-3 epochs; task tags none
# or system; packed or grouped). Each point changes one or two factors from B, the issue's probe at one epoch.
# Three epochs are left out: one epoch of the demo's data trains for ~6 minutes alone, and the demo's two
# evals of ~480 records each take most of the rest of its 25 minutes.
POINTS: dict[str, dict] = {
    "A": {"method": "lora", "lora.r": 16, "lr": 2e-4, "epochs": 1, "task_tags": "none", "batching": "grouped"},
    "B": {"method": "lora", "lora.r": 16, "lr": 1e-3, "epochs": 1, "task_tags": "system", "batching": "grouped"},
    "C": {"method": "lora", "lora.r": 16, "lr": 2e-3, "epochs": 1, "task_tags": "system", "batching": "grouped"},
    "D": {"method": "lora", "lora.r": 64, "lr": 1e-3, "epochs": 1, "task_tags": "system", "batching": "grouped"},
    "E": {"method": "full", "lora.r": None, "lr": 2e-4, "epochs": 1, "task_tags": "system", "batching": "grouped"},
    "F": {"method": "lora", "lora.r": 16, "lr": 1e-3, "epochs": 2, "task_tags": "system", "batching": "grouped"},
    "G": {"method": "lora", "lora.r": 16, "lr": 1e-3, "epochs": 1, "task_tags": "system", "batching": "packed"},
    "H": {"method": "lora", "lora.r": 16, "lr": 1e-3, "epochs": 1, "task_tags": "none", "batching": "grouped"},
    "I": {"method": "lora", "lora.r": 16, "lr": 5e-4, "epochs": 1, "task_tags": "system", "batching": "grouped"},
    # B again with another training seed: the seed noise a difference between two points must beat
    "B1": {"method": "lora", "lora.r": 16, "lr": 1e-3, "epochs": 1, "task_tags": "system", "batching": "grouped",
           "seed": 1},
}


def _prompt(record: dict) -> str:
    return next(m["content"] for m in record["messages"] if m["role"] == "user")


# ---- the shared data: the demo's curated training set and the dev draw ----------------------------------

def demo_config():
    from mtsft.run import RunConfig

    return RunConfig()


def dev_builtin(demo_eval: list[dict], per_task: int) -> list[dict]:
    """`per_task` held-out built-in records per task drawn with DEV_SEED, none with a prompt of the demo's
    eval draw."""
    from mtsft.tasks.synth import synth_records

    taken = {_prompt(r) for r in demo_eval}
    by_task: dict[str, list[dict]] = defaultdict(list)
    for r in synth_records(per_task * 12 * 3, seed=DEV_SEED, clean=True, eval_split=True):
        if _prompt(r) not in taken and len(by_task[r["task"]]) < per_task:
            taken.add(_prompt(r))
            by_task[r["task"]].append(r)
    return [r for task in sorted(by_task) for r in by_task[task]]


def _source_item(record: dict) -> str:
    """The source item a real record was made from (build_real_suite's group key, on the file's base name so
    that records imported from ../shared/datasets and the shipped slices compare equal)."""
    from build_real_suite import group_key

    return group_key({**record, "source": Path(record["source"]).name})


def dev_real(per_set: int) -> list[dict]:
    """`per_set` records of each scored real set that share no source item with the shipped slices;
    translation alternates zh->en and en->zh."""
    import random

    from mtsft.datasets import real_eval_records, real_train_records, scored_sets
    from real_sets import DEFAULT_DIR, import_real_sets

    shipped = {_source_item(r) for r in real_eval_records() + real_train_records()}
    imported = import_real_sets(DEFAULT_DIR, only={f"{name}.jsonl" for name in scored_sets()}).kept
    by_set: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in imported:
        if _source_item(r) not in shipped:
            by_set[(Path(r["source"]).name.split(":")[0], r["lang"])].append(r)
    out = []
    for name in sorted({s for s, _ in by_set}):
        langs = sorted(lang for s, lang in by_set if s == name)
        pools = [random.Random(f"{DEV_SEED}-{name}-{lang}").sample(by_set[(name, lang)], per_set) for lang in langs]
        mixed = [r for group in zip(*pools) for r in group][:per_set]
        out += [{**r, "id": f"dev-{name.split('.')[0]}-{i}", "source": Path(r["source"]).name}
                for i, r in enumerate(mixed)]
    return out


def prepare(out: Path) -> Path:
    """OUT/prep: the demo's data stage and curation (decontaminated against the demo's eval records and the
    dev draw), and the dev files of both levels. Done once."""
    from mtsft.data.curate import curate_files
    from mtsft.records import read_records, write_jsonl
    from mtsft.run import eval_files, make_data

    prep = out / "prep"
    if (prep / "done.json").exists():
        return prep
    cfg = demo_config()
    (prep / "data").mkdir(parents=True, exist_ok=True)
    make_data(cfg, prep / "data")
    demo_eval = read_records(prep / "data" / "eval.jsonl")
    dev_files = []
    for level, size in LEVELS.items():
        for suite, records in (("builtin", dev_builtin(demo_eval, size["per_task"])),
                               ("real", dev_real(size["per_set"]))):
            path = prep / f"dev_{level}_{suite}.jsonl"
            write_jsonl(path, records)
            dev_files.append(path)
    held_out = [*eval_files(cfg, prep / "data"), *dev_files]
    curate_files([str(prep / "data" / "train.jsonl")], cfg.curate, prep / "curate",
                 eval_files=[str(p) for p in held_out])
    (prep / "done.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
    return prep


# ---- one point: train, then score (run in a child process, so its memory is its own) -------------------

def train_config(name: str, prep: Path, out: Path):
    from mtsft.train.config import TrainConfig

    base = demo_config().train.model_dump(by_alias=True)
    for key, value in POINTS[name].items():
        if key == "seed":
            continue
        if key == "lora.r":
            if value is not None:
                base["lora"] = {**base["lora"], "r": value, "alpha": 2 * value}
        else:
            base[key] = value
    return TrainConfig(**{**base, "data": str(prep / "curate" / "kept.jsonl"), "out": str(out / "train"),
                          "model": "builtin", "seed": POINTS[name].get("seed", 0), "report_to": []})


def eval_config(level: str, adapter: str | None):
    from mtsft.run import RunEvalConfig

    cfg = demo_config().eval
    cap = LEVELS[level]["max_new_tokens"] or cfg.max_new_tokens
    return RunEvalConfig(**{**cfg.model_dump(by_alias=True), "max_new_tokens": cap}).model_copy(
        update={"model": "builtin", "adapter": adapter})


def score(folder: Path, prep: Path, level: str, adapter: str | None) -> None:
    from mtsft.eval.evaluate import evaluate_records, load_generator
    from mtsft.records import read_records

    if (folder / "done.json").exists():
        return
    cfg = eval_config(level, adapter)
    model, tokenizer = load_generator(cfg)   # the eval precision of the demo (bf16 where it is faster)
    start = time.perf_counter()
    for suite in ("builtin", "real"):
        records = [{**r, "meta": {**(r.get("meta") or {}), "suite": suite}}
                   for r in read_records(prep / f"dev_{level}_{suite}.jsonl")]
        evaluate_records(records, cfg, folder / suite, model=model, tokenizer=tokenizer)
    (folder / "done.json").write_text(json.dumps({"seconds": round(time.perf_counter() - start, 1)}))


def child(args) -> int:
    """One job in this process: train a point, train a point's recipe split by task, merge those parts, or
    score the base model or a point at a level."""
    from mtsft.train.loop import train

    out, prep = Path(args.out), Path(args.out) / "prep"
    if args.job == "train":
        folder = out / "points" / args.name
        if not _trained(folder):
            train(train_config(args.name, prep, folder))
        return 0
    if args.job == "split":
        from mtsft.train.split import train_split

        joint = args.name.split("-")[0]
        cfg = train_config(joint, prep, out / "points" / args.name).model_copy(
            update={"out": str(out / "points" / args.name / "train"), "select": "last"})
        train_split(cfg, "task", resume=True)
        return 0
    if args.job == "merge":
        from mtsft.train.merge import MergeConfig, merge_runs

        joint, method = args.name.split("-merge-")
        parts = sorted(p for p in (out / "points" / f"{joint}-split" / "train").iterdir() if p.is_dir())
        weights = [1.0 / len(parts)] * len(parts) if method in ("linear", "cat") else None   # cat: the mean update
        merge_runs([out / "points" / f"{joint}-split" / "train"],
                   MergeConfig(method=method, weights=weights, out=str(out / "points" / args.name / "train")))
        return 0
    adapter = None if args.name == "base" else str(out / "points" / args.name / "train")
    folder = (out / "base" if args.name == "base" else out / "points" / args.name) / args.level
    score(folder, prep, args.level, adapter)
    return 0


def _trained(folder: Path) -> bool:
    run = folder / "train" / "run.json"
    return run.exists() and json.loads(run.read_text()).get("status") == "completed"


def run_child(out: Path, job: str, name: str, level: str = "") -> dict:
    """Run one job in a child process; its wall time and the peak summed PSS of its process tree."""
    from bench_memory import tree_memory_mb

    cmd = [sys.executable, __file__, "--out", str(out), "--child", job, "--name", name, "--level", level]
    print(f"== {job} {name} {level}".rstrip(), flush=True)
    start, peak = time.perf_counter(), 0.0
    proc = subprocess.Popen(cmd, cwd=ROOT)
    while proc.poll() is None:
        peak = max(peak, tree_memory_mb(proc.pid)[0])
        time.sleep(2.0)   # sampling /proc costs CPU the job would use
    if proc.returncode:
        raise SystemExit(f"error: {job} {name} {level} failed (exit {proc.returncode})")
    return {"seconds": round(time.perf_counter() - start, 1), "peak_pss_mb": round(peak)}


# ---- the table ------------------------------------------------------------------------------------------

def diagnosis_of(base: Path, tuned: Path, train: Path, folder: Path) -> dict:
    """The demo's diagnosis of these outputs (crosstalk and format as the rise over base, general perplexity),
    written to `folder` as the demo writes it, and read back."""
    from mtsft.diagnose.diagnose import diagnose_run
    from mtsft.diagnose.report import write_report
    from mtsft.run import RunConfig
    from mtsft.runfiles import read_diagnosis

    if read_diagnosis(folder) is None:
        diagnosis = diagnose_run(base=base, tuned=tuned, train=train, cfg=RunConfig().diagnosis,
                                 log=lambda *a, **k: None)
        write_report(diagnosis, folder)
    return read_diagnosis(folder)


def macro(table: dict, suite: str) -> dict:
    return next(r for r in table["rows"] if r["suite"] == suite and r["task"] == "macro")


def markdown_table(results: dict) -> str:
    """The README's sweep table: per point its recipe, training time and peak memory, and at each level the
    built-in and real macro change over base with its paired 95% interval."""
    lines = ["| point | recipe | train min | peak GB | level | built-in macro change | real macro change | "
             "tasks up / down | floor |", "|---|---|---|---|---|---|---|---|---|"]
    for name, point in results["points"].items():
        recipe = ", ".join(f"{k} {v}" for k, v in point["recipe"].items() if v is not None)
        for level in ("screen", "confirm"):
            table = point.get(level)
            if not table:
                continue
            tasks = [r for r in table["rows"] if r["suite"] == "builtin" and r["task"] not in ("macro", "overall")]
            up = sum(1 for r in tasks if r["decided"] and r["delta"] > 0)
            down = sum(1 for r in tasks if r["decided"] and r["delta"] < 0)
            floor = ("met" if point["checks"]["floor_met"] else "not met") if level == "confirm" and "checks" in point \
                else ""
            train = point.get("train", {})
            minutes = f"{train['train_seconds'] / 60:.1f}" if train.get("train_seconds") else ""
            peak = f"{train['peak_pss_mb'] / 1024:.1f}" if train.get("peak_pss_mb") else ""
            lines.append(f"| {name} | {recipe} | {minutes} | {peak} | {level} | {fmt(macro(table, 'builtin'))} | "
                         f"{fmt(macro(table, 'real'))} | {up} / {down} | {floor} |")
    return "\n".join(lines)


def merge_markdown(joint: str, results: dict, out: Path) -> str:
    """The README's merge table (issue 32): per built-in task, and for the macros, the change over base with
    its paired 95% interval, for `joint` and its per-task adapters merged each way; then the crosstalk and
    format rates over every output (base -> tuned), training time and adapter size."""
    from mtsft.diagnose.problems import overall_rate
    from mtsft.runfiles import read_diagnosis

    names = [joint] + [n for n in results["points"] if n.startswith(f"{joint}-merge-")
                       and "confirm" in results["points"][n]]
    points = {n: results["points"][n] for n in names}
    head = ["joint" if n == joint else n.rsplit("-", 1)[-1] for n in names]
    lines = ["| | " + " | ".join(head) + " |", "|---" * (len(names) + 1) + "|"]
    tasks = [r["task"] for r in points[joint]["confirm"]["rows"]
             if r["suite"] == "builtin" and r["task"] not in ("macro", "overall")]
    for suite, task in [("builtin", "macro"), ("real", "macro")] + [("builtin", t) for t in tasks]:
        cells = [fmt(next(r for r in p["confirm"]["rows"] if r["suite"] == suite and r["task"] == task))
                 for p in points.values()]
        label = f"**{suite} macro**" if task == "macro" else task
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for problem in ("crosstalk", "format"):
        cells = []
        for n in names:
            found = {f["problem"]: f for f in (read_diagnosis(out / "points" / n / "diagnose") or {}).get("findings", [])}
            table = found.get(problem, {}).get("table") or []
            base, tuned = overall_rate(table, "base"), overall_rate(table)
            cells.append(f"{base:.1%} -> {tuned:.1%} ({tuned - base:+.1%})" if base is not None else "")
        lines.append(f"| {problem}, all outputs (base -> tuned) | " + " | ".join(cells) + " |")
    split = results["points"].get(f"{joint}-split", {}).get("train", {})
    minutes = [f"{points[joint]['train']['train_seconds'] / 60:.1f}"] + \
              [f"{split.get('train_seconds', 0) / 60:.1f} (12 parts) + {p['train']['seconds']:.0f} s merge"
               for n, p in points.items() if n != joint]
    lines.append("| training time, min | " + " | ".join(minutes) + " |")
    sizes = [f"{(out / 'points' / joint / 'train' / 'model' / 'adapter_model.safetensors').stat().st_size / 2**20:.1f}"] + \
            [f"{p.get('adapter_mb', 0):.1f}" for n, p in points.items() if n != joint]
    lines.append("| adapter, MiB | " + " | ".join(sizes) + " |")
    return "\n".join(lines)


def noise_markdown(first: str, second: str, out: Path) -> str:
    """Issue 28's noise table: one recipe trained with two seeds (`first`, `second`), scored on the very same
    confirmation records; per built-in task and macro, each seed's score and the paired change second - first
    with its 95% interval. Only seed noise separates them."""
    table = paired_table(out / "points" / first / "confirm", out / "points" / second / "confirm")
    lines = [f"| task | {first} | {second} | {second} - {first} [paired 95%] |", "|---|---|---|---|"]
    for r in table["rows"]:
        if r["task"] == "overall" or (r["suite"] != "builtin" and r["task"] != "macro"):
            continue
        label = f"**{r['suite']} macro**" if r["task"] == "macro" else r["task"]
        ci = r["delta_ci"]
        change = f"{r['delta']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else f"{r['delta']:+.3f}"
        lines.append(f"| {label} | {r['scores'][0]:.3f} | {r['scores'][1]:.3f} | {change} |")
    return "\n".join(lines)


# ---- the driver -----------------------------------------------------------------------------------------

def merge_experiment(joint: str, out: Path, results: dict, point_figures, save) -> None:
    """`joint`'s recipe as 12 per-task adapters (train --split-by task, 10% replay each), merged by linear
    (weights 1/12), ties (weights 1, density 0.5) and cat (weights 1/12: the mean of the parts' updates,
    exactly), each confirmed like a point, beside `joint` confirmed."""
    split = f"{joint}-split"
    entry = results["points"].setdefault(split, {"recipe": {"split_by": "task", "of": joint}})
    if "train" not in entry:
        entry["train"] = run_child(out, "split", split)
        parts = [json.loads(p.read_text()) for p in (out / "points" / split / "train").glob("*/run.json")]
        entry["train"]["train_seconds"] = round(sum(i["metrics"].get("train_seconds") or 0 for i in parts), 1)
        save()
    for method in ("linear", "ties", "cat"):
        name = f"{joint}-merge-{method}"
        if not _trained(out / "points" / name):
            results["points"].setdefault(name, {"recipe": {"merge": method, "of": split}})["train"] = \
                run_child(out, "merge", name)
            info = json.loads((out / "points" / name / "train" / "run.json").read_text())
            results["points"][name]["adapter_mb"] = round(info["metrics"]["adapter_bytes"] / 2**20, 2)
            save()
        point_figures(name, "confirm")
    point_figures(joint, "confirm")


def screen_gain(point: dict) -> float:
    table = point["screen"]
    return macro(table, "builtin")["delta"] + macro(table, "real")["delta"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/sweep-demo", help="the sweep's folder (git ignores runs/)")
    p.add_argument("--stage", choices=["screen", "confirm", "all"], default="all")
    p.add_argument("--points", default=",".join(POINTS), help="points to screen, in order")
    p.add_argument("--confirm", default=None, help="points to confirm (default: the best three screened)")
    p.add_argument("--merge", default=None, metavar="POINT",
                   help="issue 32: POINT's recipe trained as one adapter per task, merged by linear and ties, "
                        "confirmed beside POINT itself")
    p.add_argument("--table", action="store_true", help="print the README table of the saved results and stop")
    p.add_argument("--noise-table", default=None, metavar="A,B",
                   help="print the seed-noise table of points A and B (one recipe, two seeds; both confirmed) and stop")
    p.add_argument("--merge-table", default=None, metavar="POINT",
                   help="print the README merge table of POINT and its merges (saved results) and stop")
    p.add_argument("--child", choices=["train", "score", "split", "merge"], default=None, help=argparse.SUPPRESS)
    p.add_argument("--name", default="", help=argparse.SUPPRESS)
    p.add_argument("--level", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.job = args.child
    if args.child:
        return child(args)

    out = (ROOT / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    result_path = ROOT / "bench" / "results" / "sweep_demo.json"
    results = json.loads(result_path.read_text()) if result_path.exists() else {"points": {}}
    if args.table:
        print(markdown_table(results))
        return 0
    if args.merge_table:
        print(merge_markdown(args.merge_table, results, out))
        return 0
    if args.noise_table:
        print(noise_markdown(*args.noise_table.split(","), out))
        return 0
    results.update({"what": "demo recipe sweep on a dev draw (issue 30.1)", "dev_seed": DEV_SEED, "levels": LEVELS,
                    "grid": POINTS, "machine": {"cores": os.cpu_count()}})
    from mtsft.outputs import claim_folder, own

    # the output rule: never into a folder of the user's; the sweep's three folders are listed as mtsft's
    try:
        claim_folder(out)
    except (OSError, ValueError) as e:   # OutputRefused among them: one line, nothing touched
        raise SystemExit(f"error: {e}") from None
    own(out, "prep", "points", "base")
    print("== prepare", flush=True)
    prep = prepare(out)

    def save():
        result_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def point_figures(name: str, level: str) -> None:
        entry = results["points"].get(name) or results["points"].setdefault(name, {"recipe": POINTS[name]})
        folder = out / "points" / name
        if "train" not in entry or not _trained(folder):
            entry["train"] = run_child(out, "train", name)
            info = json.loads((folder / "train" / "run.json").read_text())
            entry["train"].update({"train_seconds": info["metrics"].get("train_seconds"),
                                   "steps": info["stages"]["main"]["steps"] if "main" in info["stages"] else None,
                                   "tokens_per_s": info["metrics"].get("tokens_per_s")})
            save()
        if not (out / "base" / level / "done.json").exists():
            results.setdefault("base", {})[level] = run_child(out, "score", "base", level)
        if not (folder / level / "done.json").exists():
            entry.setdefault("score_seconds", {})[level] = run_child(out, "score", name, level)["seconds"]
        entry[level] = paired_table(out / "base" / level, folder / level)
        if level == "confirm":
            diagnosis = diagnosis_of(out / "base" / level, folder / level, folder / "train", folder / "diagnose")
            entry["checks"] = floor_checks(entry[level], diagnosis)
        save()

    if args.stage in ("screen", "all"):
        for name in args.points.split(","):
            point_figures(name, "screen")
    if args.merge:
        merge_experiment(args.merge, out, results, point_figures, save)
    if args.stage in ("confirm", "all"):
        screened = [n for n, e in results["points"].items() if "screen" in e]
        chosen = args.confirm.split(",") if args.confirm else sorted(
            screened, key=lambda n: screen_gain(results["points"][n]), reverse=True)[:3]
        for name in chosen:
            point_figures(name, "confirm")
    save()
    print("\n" + markdown_table(results))
    print(f"wrote {result_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
