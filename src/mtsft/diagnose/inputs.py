"""What diagnosis reads: a `mtsft run` folder, or explicit eval folders plus a training run.

    RUN/eval_base/  RUN/eval_tuned/   predictions.jsonl + scores.json (one suite), or SUITE/... per suite
                                      (older runs: RUN/eval/base, RUN/eval/tuned)
    RUN/train/      task_loss.csv, run.json, config.yaml (the training config)
    RUN/curate/kept.jsonl             the training mixture (task shares); its manifest.json holds the
                                      curation config (older runs: RUN/curated/)
    RUN/config.yaml | RUN/run.yaml    the run config (RunConfig), when the run saved one
    RUN/perplexity.json               general perplexity per text, when computed earlier
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mtsft import runfiles
from mtsft.records import read_records, task_of


@dataclass
class EvalSide:
    """One evaluated model (base or tuned): prediction rows and the scores files, keyed by suite."""

    path: Path
    rows: list[dict] = field(default_factory=list)
    scores: dict[str, dict] = field(default_factory=dict)


@dataclass
class RunInputs:
    run_dir: Path | None
    base: EvalSide | None
    tuned: EvalSide | None
    seen: EvalSide | None = None                             # the tuned model on training content (eval_seen)
    task_loss: list[dict] = field(default_factory=list)     # {step, stage, split, task, loss}
    train_counts: dict[str, int] = field(default_factory=dict)
    run_config: dict | None = None                           # RunConfig as a dict, when found
    run_config_path: Path | None = None
    train_config: dict | None = None                         # the training run's config.yaml
    curate_config: dict | None = None                        # the curation config (curate/manifest.json)
    train_dir: Path | None = None
    perplexity: dict | None = None                           # {base: {nll, tokens}, tuned: {...}}

    @property
    def shares(self) -> dict[str, float]:
        total = sum(self.train_counts.values())
        return {t: n / total for t, n in sorted(self.train_counts.items())} if total else {}


def load_eval_dir(path: str | Path) -> EvalSide:
    """One eval output folder: its scores and prediction rows, or those of each suite folder in it."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such eval folder")
    folders = runfiles.suite_folders(path)
    if not folders:
        raise FileNotFoundError(f"{path}: no {runfiles.SCORES} or {runfiles.PREDICTIONS} "
                                f"(run `mtsft eval run --out {path}`)")
    side = EvalSide(path)
    for folder in folders:
        suite = folder.name
        rows = runfiles.read_predictions(folder) or []
        for r in rows:
            r["suite"] = r.get("suite") or suite
        if rows and len({r["suite"] for r in rows}) == 1:
            suite = rows[0]["suite"]
        side.rows += rows
        scores = runfiles.read_scores(folder)
        if scores is not None:
            side.scores[suite] = scores
    return side


def read_task_loss(path: str | Path) -> list[dict]:
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                rows.append({"step": int(float(row["step"])), "stage": row.get("stage") or "main",
                             "split": row["split"], "task": row["task"], "loss": float(row["loss"])})
            except (KeyError, ValueError, TypeError):
                continue
    return rows


def _yaml(path: Path) -> dict | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _train_counts(run_dir: Path | None, train_dir: Path | None, train_config: dict | None) -> dict[str, int]:
    candidates = []
    if run_dir is not None:
        candidates += [run_dir / "curate" / "kept.jsonl", run_dir / "curated" / "kept.jsonl"]
    if train_config and train_config.get("data"):
        candidates.append(Path(train_config["data"]))
    for path in candidates:
        if path.is_file():
            try:
                return dict(Counter(task_of(r) for r in read_records(path)))
            except (ValueError, KeyError):
                continue
    info = runfiles.read_run_info(train_dir) if train_dir is not None else None
    if info is not None:   # the tasks at least, shares unknown
        counts = (info.get("data") or {}).get("task_counts")
        if isinstance(counts, dict):
            return {t: int(n) for t, n in counts.items()}
    return {}


def load_inputs(run_dir: str | Path | None = None, *, base: str | Path | None = None,
                tuned: str | Path | None = None, train: str | Path | None = None,
                config: str | Path | None = None) -> RunInputs:
    """Everything diagnosis reads, found in a `mtsft run` folder, with explicit paths taking precedence."""
    run = Path(run_dir) if run_dir else None
    if run is not None and not run.is_dir():
        raise FileNotFoundError(f"{run}: no such run folder")

    def pick(explicit, *relative):
        if explicit:
            return Path(explicit)
        if run is None:
            return None
        for rel in relative:
            if (run / rel).exists():
                return run / rel
        return None

    base_dir, tuned_dir = pick(base, "eval_base", "eval/base"), pick(tuned, "eval_tuned", "eval/tuned", "eval")
    if tuned_dir is None:
        raise FileNotFoundError("no tuned eval folder: give RUN (a `mtsft run` folder) or --tuned EVAL_DIR")
    seen_dir = pick(None, "eval_seen")
    train_dir = pick(train, "train")
    if train_dir is None and run is not None and (run / "task_loss.csv").exists():
        train_dir = run                       # a `mtsft train --out RUN` folder given directly
    train_config = _yaml(train_dir / "config.yaml") if train_dir and (train_dir / "config.yaml").exists() else None
    config_path = pick(config, "config.yaml", "run.yaml", "run_config.yaml")
    if config_path is not None and train_dir is not None and config_path == train_dir / "config.yaml":
        config_path = None                    # that is the training config, not a run config
    run_config = _yaml(config_path) if config_path else None
    ppl_path = pick(None, "perplexity.json", "diagnose/perplexity.json")
    manifest = pick(None, "curate/manifest.json", "curated/manifest.json")
    try:
        curate_config = json.loads(manifest.read_text(encoding="utf-8")).get("config") if manifest else None
    except (OSError, ValueError, AttributeError):
        curate_config = None
    return RunInputs(
        run_dir=run,
        base=load_eval_dir(base_dir) if base_dir else None,
        tuned=load_eval_dir(tuned_dir),
        seen=load_eval_dir(seen_dir) if seen_dir else None,
        task_loss=read_task_loss(train_dir / "task_loss.csv") if train_dir and (train_dir / "task_loss.csv").exists() else [],
        train_counts=_train_counts(run, train_dir, train_config),
        run_config=run_config, run_config_path=config_path,
        train_config=train_config, train_dir=train_dir,
        curate_config=curate_config if isinstance(curate_config, dict) else None,
        perplexity=json.loads(ppl_path.read_text(encoding="utf-8")) if ppl_path else None,
    )
