"""Trainer callbacks: the progress bar with tokens/s and loss, and the metrics files."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from tqdm.auto import tqdm
from transformers import TrainerCallback

class ProgressBar(TrainerCallback):
    """One tqdm bar per stage: step, loss and non-padding tokens/s of this process."""

    def __init__(self, trainer, stage: str):
        self.trainer, self.stage = trainer, stage
        self.bar = None
        self.loss = None

    def on_train_begin(self, args, state, control, **kw):
        if state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=f"train [{self.stage}]",
                            dynamic_ncols=True)
        self.start, self.tokens0 = time.perf_counter(), self.trainer.tokens_processed

    def on_step_end(self, args, state, control, **kw):
        if self.bar is None:
            return
        rate = (self.trainer.tokens_processed - self.tokens0) / max(1e-9, time.perf_counter() - self.start)
        postfix = {"tok/s": f"{rate * args.world_size:.0f}"}
        if self.loss is not None:
            postfix["loss"] = f"{self.loss:.4f}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kw):
        if logs and "loss" in logs:
            self.loss = logs["loss"]

    def on_train_end(self, args, state, control, **kw):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class MetricsFiles(TrainerCallback):
    """Every log line to `metrics.jsonl`; per-task train/eval losses as long rows in `task_loss.csv`
    (step, stage, split, task, loss) so diagnosis can compare train and validation loss per task."""

    def __init__(self, run_dir: Path, stage: str, task_names: list[str]):
        self.run_dir, self.stage = Path(run_dir), stage
        self.task_names = task_names

    def on_log(self, args, state, control, logs=None, **kw):
        if not state.is_world_process_zero or not logs:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"stage": self.stage, "step": state.global_step, **logs}) + "\n")
        rows = []
        for task in self.task_names:
            for split in ("train", "eval"):
                value = logs.get(f"{split}_{task}_loss")
                if value is not None:
                    rows.append([state.global_step, self.stage, split, task, value])
        if rows:
            path = self.run_dir / "task_loss.csv"
            new = not path.exists()
            with open(path, "a", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                if new:
                    writer.writerow(["step", "stage", "split", "task", "loss"])
                writer.writerows(rows)
