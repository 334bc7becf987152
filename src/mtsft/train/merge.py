"""`mtsft merge RUN... --method linear|cat|ties|dare_ties|dare_linear -o DIR`: LoRA runs combined into one.

The combining is PEFT's `add_weighted_adapter` (its `combination_type`, `density`, `majority_sign_method`):
- cat: the low-rank factors side by side (rank = the sum of the ranks), B_i A_i summed exactly;
- linear: A and B each a weighted sum (rank kept; the cross terms make it an approximation);
- ties / dare_ties: each factor trimmed to its `density` largest (ties) or a random `density` share rescaled
  (dare), a sign elected per entry, and the entries that agree averaged;
- dare_linear: random `density` share rescaled, then summed.
PEFT folds each adapter's own scaling (alpha / r) into the weights, and the merged adapter has scaling 1.

What mtsft adds by hand, as PEFT does not: runs in (a run folder, or a `train --split-by` folder meaning
all its parts), checks that they can merge (LoRA, the same base and task tags, equal ranks where PEFT
needs them), a seeded draw for DARE's random pruning, and the result written as a run like any other: OUT
holds run.json, config.yaml and model/ (the adapter and tokenizer), so `eval run --adapter OUT`,
`diagnose`, `export --merge` and `serve` take it as they take a training run. run.json's `merge` names
the parts, the method and weights; `metrics` carries the parts' summed training time and the adapter size.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from mtsft.config import Seed, StrictConfig, dump_config, load_config

MergeMethod = Literal["linear", "cat", "ties", "dare_ties", "dare_linear"]
SPARSE = ("ties", "dare_ties", "dare_linear")        # the methods that read `density`
SAME_RANK = ("linear", "ties", "dare_ties", "dare_linear")  # PEFT sums the factors entry by entry


class MergeConfig(StrictConfig):
    RECIPES: ClassVar[None] = None

    method: MergeMethod = "linear"
    weights: list[float] | None = None      # one per adapter (None: 1 each, every task's own update kept whole)
    density: float = Field(0.5, gt=0, le=1)  # ties / dare: share of each factor's entries kept
    majority_sign: Literal["total", "frequency"] = "total"  # ties / dare_ties: how the sign is elected
    seed: Seed = 0                          # dare's random pruning
    model: str | None = None                # base model (None: the runs' own)
    out: str = "runs/merged"


def load_merge_config(path=None, overrides: list[str] | None = None, values: dict | None = None) -> MergeConfig:
    return load_config(MergeConfig, path, overrides, values)


# ---- the runs in ---------------------------------------------------------------------------------------------

def expand_runs(runs: list[str | Path]) -> list[Path]:
    """Each argument as run folders: a run itself, or a `train --split-by` folder: every part in it."""
    from mtsft.runfiles import read_run_info

    out: list[Path] = []
    for run in map(Path, runs):
        if not run.is_dir():
            raise FileNotFoundError(f"{run}: no such run folder")
        if read_run_info(run) is not None or (run / "adapter_config.json").exists():
            out.append(run)
            continue
        parts = sorted(p for p in run.iterdir() if p.is_dir() and read_run_info(p) is not None)
        if not parts:
            raise FileNotFoundError(f"{run}: not a training run, and no training runs in it")
        out += parts
    return out


def _part(run: Path) -> dict:
    """What merging reads of one run: its adapter folder, base, task tags, rank, tasks."""
    from mtsft.model import run_task_tags, run_weights
    from mtsft.runfiles import read_run_info

    weights, base = run_weights(run)
    if base is None:
        raise ValueError(f"{run}: a full fine-tune, not a LoRA adapter; only LoRA runs merge")
    info = read_run_info(run) or {}
    if info and info.get("status") != "completed":
        raise ValueError(f"{run}: the run is {info.get('status')}, not completed")
    adapter = json.loads((weights / "adapter_config.json").read_text(encoding="utf-8"))
    return {"run": run, "weights": weights, "base": base, "task_tags": run_task_tags(run), "r": adapter.get("r"),
            "tasks": info.get("tasks") or [], "info": info}


def check_parts(parts: list[dict], cfg: MergeConfig) -> list[float]:
    """The weights to merge with; one-line errors for runs that cannot merge."""
    if len(parts) < 2:
        raise ValueError("merge needs two or more LoRA runs")
    names = [str(p["run"]) for p in parts]
    for key, what in (("base", "base model"), ("task_tags", "task_tags mode")):
        values = {p[key] for p in parts}
        if len(values) > 1 and not (key == "base" and cfg.model):
            raise ValueError(f"the runs differ in their {what} ({', '.join(sorted(map(str, values)))}): "
                             f"only runs of one {what} merge")
    if cfg.method in SAME_RANK and len({p["r"] for p in parts}) > 1:
        ranks = ", ".join(f"{n}: r={p['r']}" for n, p in zip(names, parts))
        raise ValueError(f"--method {cfg.method} needs adapters of one rank ({ranks}); use --method cat")
    weights = cfg.weights if cfg.weights is not None else [1.0] * len(parts)
    if len(weights) != len(parts):
        raise ValueError(f"--weights: {len(weights)} given for {len(parts)} runs ({', '.join(names)})")
    return [float(w) for w in weights]


# ---- combining -------------------------------------------------------------------------------------------------

def combine(peft_model, adapters: list[str], weights: list[float], cfg: MergeConfig, name: str = "default") -> None:
    """Add adapter `name` to `peft_model`: `adapters` combined by PEFT's `add_weighted_adapter` with `cfg`'s
    method; DARE's random pruning is seeded so a merge repeats exactly."""
    import torch

    kwargs = {"density": cfg.density} if cfg.method in SPARSE else {}
    if cfg.method in ("ties", "dare_ties"):
        kwargs["majority_sign_method"] = cfg.majority_sign
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        peft_model.add_weighted_adapter(adapters, weights, name, combination_type=cfg.method, **kwargs)


def merge_runs(runs: list[str | Path], cfg: MergeConfig, *, log=print) -> dict:
    """Merge the LoRA runs `runs` into the run folder `cfg.out`; returns its run.json content."""
    from peft import PeftModel

    from mtsft.model import load_model, load_tokenizer
    from mtsft.outputs import claim_folder, own, staged_into, write_text_atomic
    from mtsft.runfiles import RUN_INFO, read_run_info, write_run_info

    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    parts = [_part(run) for run in expand_runs(runs)]
    weights = check_parts(parts, cfg)
    out = Path(cfg.out)
    previous = read_run_info(out) if out.is_dir() else None
    if previous is not None and "merge" not in previous:
        raise ValueError(f"{out} holds a training run; choose another --out")
    # the output rule before the model loads: never into a part, a folder of the user's; a rerun replaces
    # only an earlier merge's files
    claim_folder(out, [p["run"] for p in parts], overwrite=True)
    own(out, RUN_INFO, "config.yaml", "model")
    base = cfg.model or parts[0]["base"]
    names = [f"part{i}" for i in range(len(parts))]
    model = PeftModel.from_pretrained(load_model(base, log=log), str(parts[0]["weights"]), adapter_name=names[0])
    for name, part in zip(names[1:], parts[1:]):
        model.load_adapter(str(part["weights"]), adapter_name=name)
    combine(model, names, weights, cfg)
    model.set_adapter("default")
    for name in names:
        model.delete_adapter(name)
    with staged_into(out) as staging:
        model.save_pretrained(staging / "model")
        load_tokenizer(str(parts[0]["weights"]), log=log).save_pretrained(staging / "model")
    size = (out / "model" / "adapter_model.safetensors").stat().st_size
    info = _run_info(parts, weights, cfg, base, started, size)
    write_run_info(out, info)
    import yaml

    write_text_atomic(out / "config.yaml", yaml.safe_dump(info["config"], sort_keys=False, allow_unicode=True))
    log(f"merged {len(parts)} adapters ({cfg.method}, weights {', '.join(f'{w:g}' for w in weights)}) into {out}; "
        f"adapter {size / 2**20:.2f} MiB")
    return info


def _run_info(parts: list[dict], weights: list[float], cfg: MergeConfig, base: str, started: str, size: int) -> dict:
    """run.json of the merged run: the first part's training config (what eval and export read: the base,
    the task tags, the data), the merge, and what the parts cost together."""
    from mtsft.train.runinfo import versions

    first = parts[0]["info"]
    config = {**(first.get("config") or {}), "model": base, "task_tags": parts[0]["task_tags"]}
    seconds = [((p["info"].get("metrics") or {}).get("train_seconds")) for p in parts]
    tasks = sorted({t for p in parts for t in p["tasks"]})
    return {"status": "completed", "config": config, "versions": versions(), "method": "lora",
            "method_reason": f"{cfg.method} merge of {len(parts)} LoRA runs", "tasks": tasks,
            "data": first.get("data") or {}, "stages": {},
            "merge": {**dump_config(cfg), "weights": weights,
                      "parts": [{"run": str(p["run"]), "tasks": p["tasks"], "r": p["r"]} for p in parts]},
            "metrics": {"train_seconds": round(sum(s for s in seconds if s), 2) if all(seconds) else None,
                        "adapter_bytes": size},
            "started": started, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
