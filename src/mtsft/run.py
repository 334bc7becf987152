"""`mtsft run`: the whole loop on the embedded defaults, chaining the stage functions that exist today.

    synth (messy training data + clean held-out eval split) -> curate -> train -> generate -> score

Each step writes into one run folder and is a plain call of the stage's library function, so a notebook
can run the same steps one by one. Diagnosis and the remix loop join when their issues land.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from pydantic import Field

from mtsft.config import StrictConfig
from mtsft.data.config import CurateConfig
from mtsft.eval.evaluate import EvalRunConfig
from mtsft.train.config import TrainConfig


class RunConfig(StrictConfig):
    """The whole loop's config: the stages' own configs, composed (`--set train.lr=1e-4`,
    `--set curate.balance.temperature=2`). `model` and `seed` are the run's, handed to training."""

    out: str = "runs/pipeline"
    model: str = "builtin"
    seed: int = 0
    # Sized so the whole loop takes about ten minutes on a 2-core laptop CPU; raise n for a real run.
    n: int = Field(600, ge=50)                  # synth training records before curation
    eval_n: int = Field(48, ge=12)              # held-out evaluation records (held-out templates)
    langs: list[str] = ["zh", "en"]
    curate: CurateConfig = Field(default_factory=CurateConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    # Capped answers keep the laptop-sized loop short; `mtsft eval run` uses each task's own cap.
    eval: EvalRunConfig = Field(default_factory=lambda: EvalRunConfig(max_new_tokens=64))
    score_base: bool = True                     # also score the untuned model, side by side
    overwrite: bool = False                     # replace what an earlier run left in `out`


def _step(log, name: str):
    log(f"[bold cyan]== {name}[/]")
    return time.perf_counter()


def run_pipeline(cfg: RunConfig, *, log=print) -> dict:
    from mtsft.data.curate import curate_files
    from mtsft.eval.evaluate import evaluate_records
    from mtsft.records import read_records, write_jsonl
    from mtsft.tasks.synth import synth_records, synth_stats
    from mtsft.train.loop import train

    out = Path(cfg.out)
    if out.exists() and any(out.iterdir()):
        if not cfg.overwrite:
            raise FileExistsError(f"{out} already holds a run: choose another --out or pass --overwrite")
        shutil.rmtree(out)
    timings: dict[str, float] = {}

    t = _step(log, "synth: messy multi-task training data and a clean held-out eval split")
    raw, eval_path = out / "data" / "raw.jsonl", out / "data" / "eval.jsonl"
    write_jsonl(raw, synth_records(cfg.n, seed=cfg.seed, langs=tuple(cfg.langs)))
    write_jsonl(eval_path, synth_records(cfg.eval_n, seed=cfg.seed + 1, langs=tuple(cfg.langs), clean=True,
                                         eval_split=True))
    defects = synth_stats(read_records(raw))["defects"]
    log(f"synth: {cfg.n} training records ({sum(n for d, n in defects.items() if d != 'clean')} with "
        f"injected defects), {cfg.eval_n} eval records")
    timings["synth"] = time.perf_counter() - t

    t = _step(log, "curate: classify -> quality -> conflicts -> dedup -> balance -> validate")
    curated = curate_files([str(raw)], cfg.curate, out / "curated",
                           eval_files=[str(eval_path)], log=log)
    log(f"curate: kept {len(curated.kept)} of {curated.inputs}; report: {out / 'curated' / 'report.html'}")
    timings["curate"] = time.perf_counter() - t

    t = _step(log, "train")
    train_cfg = cfg.train.model_copy(update={"data": str(out / "curated" / "kept.jsonl"), "out": str(out / "train"),
                                             "model": cfg.model, "seed": cfg.seed})
    info = train(train_cfg, log=log)
    timings["train"] = time.perf_counter() - t

    t = _step(log, "eval: greedy generation on the held-out split, scored by each task's verifier")
    eval_records = [{**r, "meta": {**r["meta"], "suite": "builtin"}} for r in read_records(eval_path)]
    tuned_cfg = cfg.eval.model_copy(update={"model": cfg.model, "adapter": str(out / "train")})
    scores = {"tuned": evaluate_records(eval_records, tuned_cfg, out / "eval" / "tuned", log=log)}
    if cfg.score_base:
        base_cfg = cfg.eval.model_copy(update={"model": cfg.model, "adapter": None})
        scores["base"] = evaluate_records(eval_records, base_cfg, out / "eval" / "base", log=log)
    timings["eval"] = time.perf_counter() - t

    summary = {"out": str(out), "inputs": curated.inputs, "kept": len(curated.kept),
               "train": {"status": info["status"], "final_loss": info["metrics"].get("final_loss")},
               "scores": {k: v["overall"] for k, v in scores.items()},
               "per_task": {k: {t: s["score"] for t, s in v["tasks"].items()} for k, v in scores.items()},
               "seconds": {k: round(v, 1) for k, v in timings.items()}}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary
