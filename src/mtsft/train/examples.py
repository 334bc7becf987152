"""Records -> tokenized examples -> the rows each stage trains on and the per-task eval sets."""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from pathlib import Path

from datasets import Dataset

from mtsft.mixture import with_label_list
from mtsft.records import read_records, task_of
from mtsft.tags import apply_task_tag
from mtsft.train.config import TrainStage, TrainConfig
from mtsft.train.epochs import epoch_draws
from mtsft.train.packing import length_grouped_rows, pack_rows, single_rows
from mtsft.train.tokenize import tokenize_conversation

def load_records(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path}")
    records = read_records(path)
    if not records:
        raise ValueError(f"{path}: no records to train on")
    return records


def file_hash(path: str | Path | None) -> str | None:
    if path is None or not Path(path).exists():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def split_eval(records: list[dict], fraction: float, max_per_task: int, seed: int) -> tuple[list, list]:
    """Hold out `fraction` of each task (at least 1 record of tasks with 2+, at most `max_per_task`)."""
    if fraction <= 0:
        return records, []
    rng = random.Random(f"{seed}:eval-split")
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_task[task_of(r)].append(i)
    held = set()
    for _, ix in sorted(by_task.items()):
        if len(ix) >= 2:
            held.update(rng.sample(ix, min(max_per_task, max(1, round(fraction * len(ix))))))
    return [r for i, r in enumerate(records) if i not in held], [r for i, r in enumerate(records) if i in held]


class Encoded:
    """Each record tokenized once (with its task tag), reused by every epoch and stage."""

    def __init__(self, records: list[dict], tokenizer, cfg: TrainConfig, task_names: list[str]):
        self.task_index = {t: i for i, t in enumerate(task_names)}
        self.records, self.tokenizer, self.cfg = records, tokenizer, cfg
        self.tasks = [task_of(r) for r in records]
        self.limit = min(cfg.max_length, cfg.pack_length or cfg.max_length)
        self.examples = [self._encode(r, task) for r, task in zip(records, self.tasks)]
        self.dropped = sum(e is None for e in self.examples)
        self.augmented: dict[tuple[int, int], dict | None] = {}

    def _encode(self, record: dict, task: str) -> dict | None:
        messages = with_label_list(record) if self.cfg.label_list else record["messages"]
        messages = apply_task_tag(messages, record.get("task"), self.cfg.task_tags, record.get("lang"))
        tok = tokenize_conversation(self.tokenizer, messages, self.limit)
        if tok.n_trained == 0:  # the answer was truncated away entirely: nothing to learn from it
            return None
        return {"input_ids": tok.input_ids, "labels": tok.labels,
                "task_ids": [self.task_index[task]] * len(tok.input_ids)}

    def example(self, i: int, copy: int = 0) -> dict | None:
        """Record i as tokenized (copy 0), or its `copy`-th augmentation, made and tokenized once."""
        if copy == 0 or self.examples[i] is None:
            return self.examples[i]
        if (i, copy) not in self.augmented:
            from mtsft.mixture import AUGMENTATIONS, augment

            how = AUGMENTATIONS[(copy - 1) % len(AUGMENTATIONS)]
            rng = random.Random(f"{self.cfg.seed}:{i}:{copy}")
            variant = self._encode(augment(self.records[i], how, copy, rng), self.tasks[i])
            # An augmentation that no longer fits (its answer truncated away) trains the original instead.
            self.augmented[(i, copy)] = variant if variant is not None else self.examples[i]
        return self.augmented[(i, copy)]

    def rows(self, draws: list[int] | list[tuple[int, int]], cfg: TrainConfig, rng: random.Random) -> list[dict]:
        """Rows for the drawn records; a draw is an index or an (index, copy) pair from `epoch_draws`."""
        pairs = [d if isinstance(d, tuple) else (d, 0) for d in draws]
        examples = [e for e in (self.example(i, c) for i, c in pairs) if e is not None]
        if cfg.batching == "packed":
            return pack_rows(examples, cfg.pack_length or cfg.max_length, rng)
        if cfg.batching == "grouped":
            return length_grouped_rows(examples, cfg.batch_size, rng)
        return single_rows(examples)


def stage_rows(encoded: Encoded, stage: TrainStage, cfg: TrainConfig, stage_index: int) -> tuple[list[dict], int]:
    """The rows of every epoch of a stage, concatenated in training order, and the rows per epoch.

    Epochs are materialised up front (each one drawn and packed with its own seed) so the Trainer walks
    one fixed sequence: resuming from a checkpoint then replays exactly the same batches.
    """
    import math

    all_rows: list[dict] = []
    per_epoch = []
    for epoch in range(math.ceil(stage.epochs)):
        rng = random.Random(f"{cfg.seed}:{stage_index}:{epoch}:pack")
        groups = epoch_draws(encoded.tasks, stage, seed=cfg.seed + stage_index, epoch=epoch)
        groups = capped_draws(groups, encoded.tasks, cfg.max_task_epochs, epoch)
        rows = [row for g in groups for row in encoded.rows(g, cfg, rng)]
        per_epoch.append(len(rows))
        all_rows += rows
    return all_rows, per_epoch[0]


def capped_draws(groups: list[list[tuple[int, int]]], tasks: list[str], caps: dict[str, float],
                 epoch: int) -> list[list[tuple[int, int]]]:
    """One epoch's (index, copy) draws with each capped task's cut to what `max_task_epochs` leaves of it in
    this epoch (cap 1.5: all of epoch 0, the first half of epoch 1's shuffled draws, none later)."""
    if not caps:
        return groups
    drawn = Counter(tasks[i] for group in groups for i, _ in group)
    left = {t: round(n * min(1.0, max(0.0, caps[t] - epoch))) for t, n in drawn.items() if t in caps}

    def keep(task: str) -> bool:
        if task not in left:
            return True
        left[task] -= 1
        return left[task] >= 0

    return [[d for d in group if keep(tasks[d[0]])] for group in groups]


def rows_dataset(rows: list[dict]) -> Dataset:
    keys = ("input_ids", "labels", "task_ids", "seq_lengths")
    return Dataset.from_dict({k: [r[k] for r in rows] for k in keys})


def eval_datasets(records: list[dict], tokenizer, cfg: TrainConfig, task_names: list[str]) -> dict[str, Dataset]:
    """One eval set per task (TRL/Trainer log one eval loss per key of a dict)."""
    if not records:
        return {}
    encoded = Encoded(records, tokenizer, cfg, task_names)
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(encoded.tasks):
        by_task[t].append(i)
    rng = random.Random(cfg.seed)
    out = {}
    for task, ix in sorted(by_task.items()):
        rows = encoded.rows(ix, cfg, rng)
        if rows:
            out[task] = rows_dataset(rows)
    return out
