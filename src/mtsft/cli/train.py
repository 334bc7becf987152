"""`mtsft train` (with `--split-by` and `--select`), `mtsft merge` and `mtsft export`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from mtsft.cli.common import (config_option, console, friendly_errors, from_config, model_option, out_option,
                              path_str, print_log, set_option)
from mtsft.records import check_complete
from mtsft.runfiles import SCORES
from mtsft.train.config import TrainConfig
from mtsft.train.merge import MergeConfig


def check_data_file(path: str | None, what: str) -> None:
    if path is None:
        return
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what}: data file not found: {path}")
    if p.is_dir():
        raise IsADirectoryError(f"{what} {path}: is a folder; pass the JSONL file (e.g. {p / 'kept.jsonl'})")
    check_complete(p)  # a curated folder without its manifest, an unfinished import: refused


def check_before_torch(cfg, *, resume: bool) -> None:
    """What `mtsft train` refuses before importing torch: no or unusable data, an unusable run folder."""
    from mtsft.train.runinfo import check_run_dir

    if not cfg.data:
        raise ValueError("no training data: pass --data FILE or set data: in the config")
    check_data_file(cfg.data, "--data")
    check_data_file(cfg.eval.data, "eval.data")
    check_run_dir(cfg.out, resume=resume, inputs=(cfg.data, cfg.eval.data))


def spec_given(*launch_flags) -> bool:
    return any(flag is not None for flag in launch_flags)


def _train_split(cfg, split_by: str, *, resume: bool, launcher: bool) -> int:
    """`train --split-by`: the parts one after another in this process."""
    from mtsft.train.split import SplitBy, check_split_out

    if split_by not in SplitBy.__args__:
        raise ValueError(f"--split-by {split_by!r}: use task or family")
    if launcher:
        raise ValueError("--split-by trains its parts in one process: drop --nproc and the multi-node flags")
    check_data_file(cfg.data, "--data")
    check_data_file(cfg.eval.data, "eval.data")
    check_split_out(cfg, resume=resume)
    from mtsft.train.split import train_split

    results = train_split(cfg, split_by, resume=resume, log=print_log)
    console.print(f"split: {cfg.out}  parts: {', '.join(results)}  (merge them: mtsft merge {cfg.out} -o DIR)")
    return 0


def _weights(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(w) for w in text.split(",")]
    except ValueError:
        raise ValueError(f"--weights {text!r}: give numbers separated by commas, e.g. 1,0.5") from None


def register(app: typer.Typer) -> None:
    @app.command(help="LoRA / QLoRA / full SFT with multi-task controls, staged schedules and per-task eval loss.")
    @friendly_errors
    def train(
        config: str = config_option("Training recipe (shipped: lora, full, qlora, staged)"),
        set_: list[str] = set_option("lr=1e-4"),
        data: Path = typer.Option(None, "--data", help="Curated records (JSONL) to train on."),
        out: Path = out_option("Output folder: the training run (default runs/latest)."),
        model: str = model_option(),
        resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
        precision: str = typer.Option(None, "--precision", help="auto | bf16 | fp16 | fp32."),
        nproc: int = typer.Option(None, "--nproc", help="Processes (per machine), launched through accelerate."),
        config_accelerate: str = typer.Option(None, "--config-accelerate", help="accelerate config: a path or a shipped name "
                                              "(accelerate/ddp, accelerate/fsdp, accelerate/deepspeed_zero2, ...)."),
        num_machines: int = typer.Option(None, "--num-machines", help="Multi-node: number of machines."),
        machine_rank: int = typer.Option(None, "--machine-rank", help="Multi-node: rank of this machine."),
        main_process_ip: str = typer.Option(None, "--main-process-ip", help="Multi-node: address of rank 0."),
        main_process_port: int = typer.Option(None, "--main-process-port", help="Multi-node: port of rank 0."),
        split_by: str = typer.Option(None, "--split-by", help="task | family: one LoRA adapter per task (or registry "
                                     "family) in OUT/<part>/, each with split_replay of the others (mtsft merge)."),
        select: str = from_config(TrainConfig, "select", "--select", help="best: each stage ends with the checkpoint "
                                  "scoring best on a held-out selection set (when 2+ are kept); last: its end."),
    ) -> None:
        # Everything that can be checked without torch is checked first: a typo, a missing or unfinished
        # data file, an --out that cannot hold the run fail in a second, not after the model loads.
        from mtsft.config import resolve_recipe
        from mtsft.train.config import load_train_config
        from mtsft.train.launch import LaunchSpec, inside_launcher, launch

        if config is None and resume and out is not None and (out / "config.yaml").exists():
            config = str(out / "config.yaml")
        cfg = load_train_config(config, set_, {"data": path_str(data), "out": path_str(out), "model": model,
                                               "precision": precision, "select": select})
        if split_by is not None:
            raise typer.Exit(_train_split(cfg, split_by, resume=resume, launcher=spec_given(
                nproc, config_accelerate, num_machines, machine_rank, main_process_ip, main_process_port)))
        accelerate_file = str(resolve_recipe(config_accelerate, "accelerate")) if config_accelerate else None
        spec = LaunchSpec(nproc, accelerate_file, num_machines, machine_rank, main_process_ip, main_process_port)
        if not inside_launcher():
            check_before_torch(cfg, resume=resume)
        if spec.wanted() and not inside_launcher():
            raise typer.Exit(launch(cfg, spec, resume=resume, log=print_log))
        from mtsft.train.loop import train as run_training

        info = run_training(cfg, resume=resume, log=print_log)
        if os.environ.get("RANK", "0") == "0":
            console.print(f"run: {cfg.out}  status: {info['status']}  final loss: {info['metrics']['final_loss']}")

    @app.command(help="Merge LoRA runs (e.g. the parts of `train --split-by`) into one adapter with PEFT's "
                      "add_weighted_adapter; the result is a run like any other (eval run, diagnose, export, serve).")
    @friendly_errors
    def merge(
        runs: list[Path] = typer.Argument(..., help="LoRA run folders, or a `train --split-by` folder (its parts)."),
        out: Path = out_option("Output folder: the merged adapter, written as a training run (eval run, export, serve load it).",
                               required=True),
        config: str = config_option("Merge settings (method, weights, density, majority_sign, seed)", shipped=False),
        set_: list[str] = set_option("density=0.3"),
        method: str = from_config(MergeConfig, "method", "--method",
                                  help="linear | cat | ties | dare_ties | dare_linear (PEFT's combination_type)."),
        weights: str = typer.Option(None, "--weights", help="One weight per run, comma-separated, e.g. 1,0.5 "
                                                            "(default 1 each)."),
        model: str = typer.Option(None, "--model", help="Base model to load the adapters on (default: the runs' own)."),
    ) -> None:
        from mtsft.train.merge import load_merge_config, merge_runs

        cfg = load_merge_config(config, set_, {"out": path_str(out), "method": method, "model": model,
                                               "weights": _weights(weights)})
        info = merge_runs(runs, cfg, log=print_log)
        console.print(f"run: {cfg.out}  merged: {len(info['merge']['parts'])} adapters ({cfg.method})")

    @app.command(help="Export a run as a plain Hugging Face model (--merge folds LoRA into the weights).")
    @friendly_errors
    def export(
        run: Path = typer.Argument(..., help="Run directory (or a model/adapter directory)."),
        out: Path = out_option("Output folder: the Hugging Face model (and OUT/gguf/ with --gguf).", required=True),
        merge: bool = typer.Option(True, "--merge/--no-merge", help="Merge LoRA into the base weights."),
        scores: Path = typer.Option(None, "--scores", help=f"Eval scores for the model card (a {SCORES} or an "
                                                            "`eval run --out` folder; default: the run's latest)."),
        gguf: bool = typer.Option(False, "--gguf", help="Also write a GGUF file (Llama-family models) in OUT/gguf/."),
        gguf_dtype: str = typer.Option("f32", "--gguf-dtype", help="f32 (exact) or f16."),
    ) -> None:
        from mtsft.export import export_gguf, export_run

        if gguf and not merge:
            raise ValueError("--gguf needs the merged model: drop --no-merge")
        export_run(run, out, merge=merge, scores=scores, log=print_log)
        if gguf:
            export_gguf(out, dtype=gguf_dtype, log=print_log)
