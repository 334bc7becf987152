"""`train(cfg)`: a run directory, one or more stages, each a Trainer run starting from the previous
stage's weights. Layout of a run directory:

    run.json                 config, data hash, versions, method and why, status, per-stage results
    metrics.jsonl            every log line (train loss, per-task train/eval losses, lr, ...)
    task_loss.csv            step, stage, split, task, loss
    tb/                      TensorBoard
    mlruns/                  MLflow's local file store (report_to: [mlflow], unless MLFLOW_TRACKING_URI is set)
    stages/NN-name/          checkpoints of that stage, and final/ (its end weights)
    model/                   the final weights (a LoRA adapter or a full model) and the tokenizer
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import torch
from accelerate import PartialState
from transformers import TrainerCallback

from mtsft import threads_per_process
from mtsft.records import task_of
from mtsft.train.build import build_model, parameter_counts
from mtsft.train.callbacks import MetricsFiles, ProgressBar
from mtsft.train.config import TrainStage, TrainConfig
from mtsft.train.examples import (Encoded, eval_datasets, file_hash, load_records, rows_dataset, split_eval,
                                  stage_rows)
from mtsft.train.memory import freed_memory_kept, trim_after_each_step
from mtsft.train.method import choose_method, resolve_batching, resolve_precision
from mtsft.train.packing import PackedCollator
from mtsft.train.runinfo import RunInfo, check_run_dir, peak_memory_mb
from mtsft.train.select import make_selector
from mtsft.train.trainer import MultiTaskSFTTrainer


def _set_threads(cfg: TrainConfig, world: int) -> None:
    if not torch.cuda.is_available():
        torch.set_num_threads(cfg.threads or threads_per_process(world))  # MTSFT_THREADS, else the cores shared out


def _stage_dir(run_dir: Path, i: int, stage: TrainStage) -> Path:
    return run_dir / "stages" / f"{i:02d}-{stage.name}"


def _sft_args(cfg: TrainConfig, stage: TrainStage, out: Path, run_dir: Path, precision: str, max_steps: int,
              has_eval: bool):
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(out), max_steps=max_steps, learning_rate=stage.lr,
        per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_ratio, weight_decay=cfg.weight_decay, max_grad_norm=cfg.max_grad_norm,
        logging_steps=cfg.logging_steps, save_strategy="steps", save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        eval_strategy="steps" if (has_eval and cfg.eval.steps) else "no", eval_steps=cfg.eval.steps,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=not torch.cuda.is_available(),
        activation_checkpointing=cfg.gradient_checkpointing, seed=cfg.seed, data_seed=cfg.seed,
        train_sampling_strategy="sequential",  # epochs are drawn and shuffled by mtsft (resumable)
        remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True}, label_names=["labels"],
        packing=False, padding_free=False, max_length=None,
        report_to=[r for r in cfg.report_to if r != "mlflow"],  # mtsft's own MlflowLog logs to MLflow
        disable_tqdm=True, ddp_find_unused_parameters=False,
        dataloader_num_workers=0, save_only_model=False,
        prediction_loss_only=True,  # eval keeps its losses only, not every batch's logits (49k vocab)
    )


MLRUNS = "mlruns"


def require_mlflow():
    """The mlflow module, or a one-line error naming the extra that installs it."""
    try:
        import mlflow
    except ImportError:
        raise ValueError("report_to has mlflow, which is not installed: pip install 'mtsft[mlflow]'") from None
    return mlflow


@contextmanager
def mlflow_tracking(run_dir: str | Path) -> Iterator[str]:
    """The MLflow store a run logs to while the block runs: MLFLOW_TRACKING_URI when the user set it, else a
    local file store in RUN/mlruns (offline; `mlflow ui --backend-store-uri URI` shows it). Yields the URI.

    Set in the environment, where the MLflow client looks, and put back afterwards so a second run in this
    process gets its own store. MLflow 3 refuses a file store unless MLFLOW_ALLOW_FILE_STORE is set, and its
    other local store (SQLite) needs the full mlflow package: mlflow-skinny, the optional extra, has the file
    store only."""
    require_mlflow()
    given = os.environ.get("MLFLOW_TRACKING_URI")
    env = {} if given else {"MLFLOW_TRACKING_URI": (Path(run_dir).resolve() / MLRUNS).as_uri(),
                            "MLFLOW_ALLOW_FILE_STORE": "true"}   # RUN/mlruns is in runinfo.RUN_ENTRIES
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield given or env["MLFLOW_TRACKING_URI"]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_mlflow_run(uri: str, name: str, params: dict | None = None):
    """A new MLflow run named `name` in the experiment MLFLOW_EXPERIMENT_NAME names (else Default), through a
    client on `uri` rather than mlflow's process-wide state; returns (client, run id)."""
    from mlflow.entities import Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME", "Default")
    experiment = client.get_experiment_by_name(experiment_name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(experiment_name)
    run_id = client.create_run(experiment_id, run_name=name).info.run_id
    if params:
        client.log_batch(run_id, params=[Param(k, str(v)[:500]) for k, v in params.items()])
    return client, run_id


def mlflow_key(*parts: str) -> str:
    """A metric or tag name MLflow accepts (letters, digits, _ - . space : /)."""
    return re.sub(r"[^0-9A-Za-z_\-. :/]", "_", "/".join(parts))


class MlflowLog(TrainerCallback):
    """Every Trainer log line (loss, lr, per-task eval losses) as metrics of the training run's one MLflow run,
    each stage's under its name when there are several. Written here instead of handing `mlflow` to the
    Trainer: transformers' MLflowCallback opens a run per Trainer (one per stage) and ends whichever run is
    active when it is garbage collected, which splits a staged run and the final evaluation across runs."""

    def __init__(self, client, run_id: str, prefix: str = ""):
        self.client, self.run_id, self.prefix = client, run_id, prefix

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(mlflow_key(self.prefix + k), float(v), now, state.global_step) for k, v in logs.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)


def _open_mlflow(tracking: ExitStack, run_dir: Path, cfg: TrainConfig):
    """The training run's MLflow run, ended (FINISHED or FAILED) when `tracking` closes: (client, run id)."""
    uri = tracking.enter_context(mlflow_tracking(run_dir))
    params = {k: v for k, v in cfg.model_dump(mode="json").items() if isinstance(v, (str, int, float, bool))}
    client, run_id = start_mlflow_run(uri, run_dir.name, params)
    tracking.push(lambda kind, *_: client.set_terminated(run_id, "FAILED" if kind else "FINISHED"))
    return client, run_id


def _load_stage_weights(model, final_dir: Path, method: str) -> None:
    """Put a finished stage's end weights into `model` (resuming a staged run after that stage)."""
    from safetensors.torch import load_file

    if method in ("lora", "qlora"):
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(final_dir / "adapter_model.safetensors"))
    else:
        model.load_state_dict(load_file(final_dir / "model.safetensors"), strict=False)


def _stage_steps(n_rows: int, rows_per_epoch: int, epochs: float, cfg: TrainConfig, world: int) -> int:
    per_step = cfg.batch_size * cfg.grad_accum * world
    steps = max(1, math.ceil(min(n_rows, rows_per_epoch * epochs) / per_step))
    return min(steps, cfg.max_steps) if cfg.max_steps else steps


def train(cfg: TrainConfig, *, resume: bool = False, log=print, callbacks: tuple = ()) -> dict:
    """Run every stage of `cfg`; returns the final run.json content. `callbacks`: extra Trainer callbacks
    (a notebook's own logging, a test's fault injection). Freed memory is kept for reuse while training
    and handed back to the OS once the model and Trainer are gone (train/memory.py)."""
    if "mlflow" in cfg.report_to:
        require_mlflow()                 # before any work
    with freed_memory_kept(), ExitStack() as tracking:
        return _train(cfg, resume=resume, log=log, callbacks=callbacks, tracking=tracking)


def _train(cfg: TrainConfig, *, resume: bool, log, callbacks: tuple, tracking: ExitStack) -> dict:
    import datasets

    datasets.disable_progress_bars()  # packing runs dataset.map per epoch; the training bar is enough
    state = PartialState(cpu=not torch.cuda.is_available())  # cpu=True: gloo workers on CPU-only machines
    _set_threads(cfg, state.num_processes)
    if not cfg.data:
        raise ValueError("no training data: pass --data FILE or set data: in the config")
    if state.is_main_process:
        check_run_dir(cfg.out, resume=resume, inputs=(cfg.data, cfg.eval.data))  # before reading data
    records = load_records(cfg.data)
    eval_file = load_records(cfg.eval.data) if cfg.eval.data else None
    run_dir = Path(cfg.out)
    info = RunInfo(run_dir, is_main=state.is_main_process)
    info.begin(cfg, resume=resume)
    try:
        mlflow_run = None   # (client, run id) of this training's MLflow run, on the main process
        if "mlflow" in cfg.report_to and state.is_main_process:   # after the run folder is claimed: RUN/mlruns is in it
            mlflow_run = _open_mlflow(tracking, run_dir, cfg)
        if eval_file is not None:
            train_recs, eval_recs = records, eval_file
        else:
            train_recs, eval_recs = split_eval(records, cfg.eval.fraction, cfg.eval.max_per_task, cfg.seed)
        task_names = sorted({task_of(r) for r in train_recs + eval_recs})

        precision = resolve_precision(cfg.precision)
        cfg = cfg.model_copy(update={"batching": resolve_batching(cfg.batching)})
        from mtsft.model import load_tokenizer

        tokenizer = load_tokenizer(cfg.model, trust_remote_code=cfg.trust_remote_code, log=log)
        probe_params = None
        if cfg.method == "auto":
            from mtsft.model import load_model

            probe_params = sum(p.numel() for p in load_model(cfg.model, trust_remote_code=cfg.trust_remote_code, log=log).parameters())
        method, reason = choose_method(cfg.method, n_records=len(train_recs), n_tasks=len(task_names),
                                       n_params=probe_params or 0, lora_below=cfg.auto_lora_below,
                                       full_above=cfg.auto_full_above)
        from transformers import set_seed

        set_seed(cfg.seed)  # LoRA's random init must not depend on what ran before in this process
        model = build_model(cfg, method, precision, log=log)
        trainable, total = parameter_counts(model)
        if state.is_main_process:
            log(f"method: {method} ({reason}); precision: {precision}; batching: {cfg.batching}")
            log(f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.2f}%)")

        encoded = Encoded(train_recs, tokenizer, cfg, task_names)
        evals = eval_datasets(eval_recs, tokenizer, cfg, task_names)
        info.update(method=method, method_reason=reason, precision=precision, tasks=task_names,
                    data={"path": str(cfg.data), "sha256": file_hash(cfg.data), "records": len(records),
                          "train": len(train_recs), "eval": len(eval_recs), "eval_path": cfg.eval.data,
                          "dropped_truncated": encoded.dropped},
                    params={"trainable": trainable, "total": total, "trainable_share": trainable / total})

        collator = PackedCollator(tokenizer.pad_token_id)
        started, tokens, trained_tokens, train_runtime = time.perf_counter(), 0, 0, 0.0
        last_loss, trainer = None, None  # no trainer when a resume finds every stage done
        for i, stage in enumerate(cfg.stage_list()):
            stage_dir = _stage_dir(run_dir, i, stage)
            if resume and info.stage_done(stage.name):
                _load_stage_weights(model, stage_dir / "final", method)
                continue
            rows, rows_per_epoch = stage_rows(encoded, stage, cfg, i)
            steps = _stage_steps(len(rows), rows_per_epoch, stage.epochs, cfg, state.num_processes)
            os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "tb" / stage.name)  # read by TRL's TB callback
            args = _sft_args(cfg, stage, stage_dir, run_dir, precision, steps, bool(evals))
            trainer = MultiTaskSFTTrainer(
                model=model, args=args, train_dataset=rows_dataset(rows), eval_dataset=evals or None,
                data_collator=collator, processing_class=tokenizer, task_names=task_names,
                lm_head_trained_only=cfg.lm_head_trained_only, max_batch_tokens=cfg.max_batch_tokens)
            from transformers.trainer_callback import PrinterCallback

            trainer.remove_callback(PrinterCallback)
            if mlflow_run is not None:
                staged = len(cfg.stage_list()) > 1
                trainer.add_callback(MlflowLog(*mlflow_run, prefix=f"{stage.name}/" if staged else ""))
            for cb in (ProgressBar(trainer, stage.name), MetricsFiles(run_dir, stage.name, task_names),
                       trim_after_each_step(), *callbacks):
                trainer.add_callback(cb)
            selector = make_selector(trainer, cfg, steps=steps, task_names=task_names, out_dir=stage_dir / "selection",
                                     is_main=state.is_main_process, sharded=_is_sharded(state), log=log)
            if selector is not None:  # select: best, 2+ candidates: each saved checkpoint answers the selection set
                trainer.add_callback(selector.callback())
            checkpoint = _last_checkpoint(stage_dir) if resume else None
            if selector is not None and checkpoint is not None:
                selector.reload(int(Path(checkpoint).name.rsplit("-", 1)[-1]))
            info.stage_started(stage.name, steps=steps, rows=len(rows), lr=stage.lr, epochs=stage.epochs)
            try:
                trainer.train(resume_from_checkpoint=checkpoint)
            except torch.OutOfMemoryError:
                raise MemoryError("out of memory") from None
            # the eval loss at the last step, measured once: the selector's checkpoint there already did
            done = selector.metrics.get(trainer.state.global_step) if selector is not None else None
            metrics = done or (trainer.evaluate() if evals else {})
            selection = None
            if selector is not None:  # the stage ends with the best-scoring weights (train/select.py)
                best, selection = selector.finish(model, trainer.state.global_step, metrics)
                if best.checkpoint is not None:
                    _load_stage_weights(model, Path(best.checkpoint), method)
            trainer.save_model(str(stage_dir / "final"))
            tokens += trainer.tokens_processed * state.num_processes
            trained_tokens += trainer.tokens_trained * state.num_processes
            train_runtime += next((h["train_runtime"] for h in trainer.state.log_history if "train_runtime" in h), 0.0)
            losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
            last_loss = losses[-1] if losses else last_loss
            info.stage_finished(stage.name, final_loss=last_loss,
                                eval={k: v for k, v in metrics.items() if k.endswith("_loss")},
                                **({"selection": selection} if selection else {}))

        elapsed = time.perf_counter() - started
        checksums = _gather_checksums(model)
        weights = _full_state_dict(trainer) if trainer is not None and _is_sharded(state) else None
        if state.is_main_process:
            model.save_pretrained(str(run_dir / "model"), state_dict=weights)
            tokenizer.save_pretrained(str(run_dir / "model"))
        peak = peak_memory_mb()
        busy = train_runtime or elapsed  # the Trainer's own training time (no eval, no final save)
        per_1k = busy / max(1, tokens) * 1000
        if state.is_main_process:
            log(f"done in {elapsed:.0f}s: {tokens:,} tokens, {per_1k:.2f} s per 1k tokens, "
                f"peak memory {peak:,.0f} MB, final loss {last_loss}")
        state.wait_for_everyone()
        return info.finish(final_loss=last_loss, train_seconds=round(elapsed, 2), trainer_seconds=round(train_runtime, 2),
                           tokens=tokens, trained_tokens=trained_tokens,
                           sec_per_1k_tokens=round(per_1k, 4), tokens_per_s=round(tokens / max(busy, 1e-9), 1),
                           peak_memory_mb=round(peak, 1), rank_weight_checksums=checksums)
    except BaseException as e:  # a start that fails (tokenizer, model, data) must not stay "running"
        info.fail(e)
        raise


def _last_checkpoint(stage_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(stage_dir)) if stage_dir.is_dir() else None


def _is_sharded(state) -> bool:
    from accelerate.utils import DistributedType

    return state.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)


def _full_state_dict(trainer):
    """Under FSDP and ZeRO each rank holds a shard of the weights, so a plain `save_pretrained` writes
    shards (or empty ZeRO-3 placeholders): gather the whole weights first, a collective on every rank."""
    return trainer.accelerator.get_state_dict(trainer.model_wrapped)


def _gather_checksums(model) -> list[str]:
    """A hash of the trainable weights on every rank: equal hashes prove the ranks stayed in sync."""
    import hashlib

    from accelerate.utils import gather_object

    h = hashlib.sha256()
    for name, p in sorted(model.named_parameters()):
        if p.requires_grad:
            weight = p.detach()
            if hasattr(weight, "full_tensor"):  # FSDP2 shards weights as DTensors: gather the whole one (a collective)
                weight = weight.full_tensor()
            h.update(name.encode())
            h.update(weight.float().cpu().numpy().tobytes())
    return gather_object([h.hexdigest()[:16]])
