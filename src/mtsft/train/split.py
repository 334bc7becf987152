"""`mtsft train --split-by task|family -o OUT`: one LoRA adapter per task (or registry family), OUT/<part>/.

Each part is an ordinary training run (`train()`), whose single stage trains that part's tasks plus a
replay share (`split_replay`) of the other parts' records, so no adapter forgets the rest entirely; a
staged config keeps its stages, each narrowed to the part. `mtsft merge OUT -o DIR` then combines the
parts (train/merge.py). The parts share the data file, the held-out eval records and every other setting.

This module imports torch only when it trains, so `check_split_out` runs before the model loads.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Literal

from mtsft.train.config import TrainConfig, TrainStage

SplitBy = Literal["task", "family"]


def split_parts(tasks: list[str], by: SplitBy) -> dict[str, list[str]]:
    """{part name: its tasks}: one part per task, or per registry family (a task the registry does not
    know is a part of its own)."""
    from mtsft.train.epochs import task_family

    parts: dict[str, list[str]] = defaultdict(list)
    for task in sorted(set(tasks)):
        parts[(task_family(task) or task) if by == "family" else task].append(task)
    return dict(sorted(parts.items()))


def part_folder(name: str) -> str:
    """A part's folder name: the task or family, with anything a path cannot hold replaced."""
    return re.sub(r"[^\w.-]", "_", name).lstrip(".") or "part"


def part_config(cfg: TrainConfig, tasks: list[str], out: Path) -> TrainConfig:
    """`cfg` for one part: every stage trains only `tasks`, with `split_replay` of the others."""
    focus = {"tasks": tasks, "families": None, "replay": cfg.split_replay}
    if not cfg.stages:
        stages = [TrainStage(name="main", **focus)]
    else:
        narrowed = [s.name for s in cfg.stages if s.tasks is not None or s.families is not None]
        if narrowed:
            raise ValueError(f"--split-by: stage {narrowed[0]!r} chooses its own tasks; a split chooses them per "
                             "part (drop the stage's tasks/families)")
        stages = [s.model_copy(update=focus) for s in cfg.stages]
    return cfg.model_copy(update={"out": str(out), "stages": stages})


def check_split_out(cfg: TrainConfig, *, resume: bool) -> None:
    """Refuse, before torch, an OUT that cannot hold the split (one line naming the path)."""
    from mtsft.outputs import check_folder, owned

    out = Path(cfg.out)
    check_folder(out, (cfg.data, cfg.eval.data))
    if not resume and owned(out):
        raise ValueError(f"{out} already holds a split run; pass --resume to continue it or choose another --out")


def train_split(cfg: TrainConfig, by: SplitBy, *, resume: bool = False, log=print) -> dict[str, dict]:
    """Train one adapter per part into `cfg.out/<part>/`; returns {part: its run.json content}. With
    `resume`, finished parts are kept and the others continue (or start)."""
    from mtsft.outputs import claim_folder
    from mtsft.records import task_of
    from mtsft.runfiles import read_run_info
    from mtsft.train.examples import load_records
    from mtsft.train.loop import train

    if cfg.method not in ("lora", "qlora"):
        raise ValueError(f"--split-by trains one LoRA adapter per part: method {cfg.method} has no adapter to merge")
    if not cfg.data:
        raise ValueError("no training data: pass --data FILE or set data: in the config")
    check_split_out(cfg, resume=resume)
    parts = split_parts([task_of(r) for r in load_records(cfg.data)], by)
    if len(parts) < 2:
        raise ValueError(f"--split-by {by}: the data holds one {by} only ({', '.join(parts)}): nothing to split")
    out = claim_folder(cfg.out, (cfg.data, cfg.eval.data))
    results = {}
    for name, tasks in parts.items():
        run = out / part_folder(name)
        previous = read_run_info(run) if resume else None
        if previous is not None and previous.get("status") == "completed":
            log(f"split: {name}: done already")
            results[name] = previous
            continue
        log(f"split: {name} ({', '.join(tasks)}) with {cfg.split_replay:.0%} replay of the others -> {run}")
        results[name] = train(part_config(cfg, tasks, run), resume=previous is not None, log=log)
    log(split_table(results))
    return results


def split_table(results: dict[str, dict]) -> str:
    lines = ["split: part  final_loss  train_s"]
    for name, info in results.items():
        m = info.get("metrics") or {}
        lines.append(f"split: {name}  {m.get('final_loss')}  {m.get('train_seconds')}")
    return "\n".join(lines)
