"""Rows of packed examples and the collator that feeds them to the model without cross-attention.

A row holds several examples back to back (TRL's best-fit-decreasing `pack_dataset`), each with
position ids restarting at 0. The collator passes `position_ids` and NO `attention_mask`: that is the
only case in which transformers builds the block-diagonal causal mask from the position ids on SDPA
(an all-ones 2D mask would silently let packed examples attend to each other). Padding at the end of a
row gets its own positions from 0, so it forms one more "example" that nothing attends to and that has
no labels. Rows stay `pack_length` long (not one giant row per batch) because the SDPA mask is dense:
its cost grows with the square of the row length.
"""

from __future__ import annotations

import random

import torch
from datasets import Dataset

from mtsft.train.tokenize import IGNORE


def examples_dataset(examples: list[dict]) -> Dataset:
    """examples: dicts with input_ids, labels and task_ids (one task index per token)."""
    return Dataset.from_dict({k: [e[k] for e in examples] for k in ("input_ids", "labels", "task_ids")})


def pack_rows(examples: list[dict], pack_length: int, rng: random.Random) -> list[dict]:
    """Best-fit-decreasing packing into rows of at most `pack_length` tokens, rows in random order."""
    from trl.data_utils import pack_dataset

    if not examples:
        return []
    packed = pack_dataset(examples_dataset(examples), seq_length=pack_length, strategy="bfd")
    rows = packed.to_list()
    rng.shuffle(rows)  # BFD emits rows sorted by fill; training order should not follow length
    return rows


def single_rows(examples: list[dict]) -> list[dict]:
    """One example per row (packing off)."""
    return [{**e, "seq_lengths": [len(e["input_ids"])]} for e in examples]


def length_grouped_rows(examples: list[dict], batch_size: int, rng: random.Random, chunk_batches: int = 16) -> list[dict]:
    """One example per row, ordered so that each run of `batch_size` rows has similar lengths.

    Examples are sorted by length within random chunks of `chunk_batches` batches (so the order stays
    random at a larger scale), cut into batches, and the batches shuffled. The sampler must be
    sequential for the batches to stay together (stages.py sets it).
    """
    rows = single_rows(examples)
    size = batch_size * chunk_batches
    batches = []
    for start in range(0, len(rows), size):
        chunk = sorted(rows[start:start + size], key=lambda r: len(r["input_ids"]))
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return [r for b in batches for r in b]


class PackedCollator:
    """Pads rows on the right to the longest in the batch and builds per-example position ids."""

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int = 8):
        self.pad_token_id = pad_token_id
        self.multiple = pad_to_multiple_of

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        longest = max(len(r["input_ids"]) for r in rows)
        width = -(-longest // self.multiple) * self.multiple
        input_ids, labels, positions, task_ids = [], [], [], []
        for r in rows:
            pad = width - len(r["input_ids"])
            input_ids.append(list(r["input_ids"]) + [self.pad_token_id] * pad)
            labels.append(list(r["labels"]) + [IGNORE] * pad)
            task_ids.append(list(r["task_ids"]) + [-1] * pad)
            if len(r["seq_lengths"]) == 1:
                # One example: positions run on through the right padding, so the row is one causal
                # sequence and no mask is needed (real tokens never attend to later padding).
                pos = list(range(width))
            else:
                pos = [p for n in r["seq_lengths"] for p in range(n)] + list(range(pad))
            positions.append(pos)
        return {
            "input_ids": torch.tensor(input_ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "position_ids": torch.tensor(positions, dtype=torch.long),
            "task_ids": torch.tensor(task_ids, dtype=torch.long),
        }


def row_lengths(batch: dict[str, torch.Tensor]) -> list[int]:
    """Each collated row's length without its right padding (padding is the only task id -1)."""
    real = batch["task_ids"] >= 0
    width = real.shape[1]
    # index of the last real token + 1 (0 for an all-padding row)
    last = width - torch.flip(real, dims=[1]).int().argmax(dim=1)
    return [int(n) if real[i].any() else 0 for i, n in enumerate(last.tolist())]


def token_budget_chunks(batch: dict[str, torch.Tensor], max_tokens: int | None,
                        multiple: int = 8) -> list[dict[str, torch.Tensor]]:
    """Split a collated batch into chunks of whole rows, each at most `max_tokens` tokens (rows x padded width).

    A chunk's trailing padding columns are cut to its own longest row (rounded up to `multiple`), so a chunk
    of short rows does not carry a long row's padding. Rows keep their order and each lands in exactly one
    chunk; a row longer than the budget is a chunk by itself. Cutting right padding changes nothing the loss
    sees: real tokens never attend to later positions, and padding has no labels. With no budget, or a batch
    within it, the batch comes back whole.
    """
    n_rows, width = batch["input_ids"].shape
    if max_tokens is None or n_rows * width <= max_tokens:
        return [batch]
    lengths = row_lengths(batch)
    chunks, start = [], 0
    while start < n_rows:
        end, longest = start, 0
        while end < n_rows:
            longest_with = max(longest, lengths[end])
            padded = min(width, -(-max(longest_with, 1) // multiple) * multiple)
            if end > start and (end - start + 1) * padded > max_tokens:
                break
            longest, end = longest_with, end + 1
        cut = min(width, -(-max(longest, 1) // multiple) * multiple)
        chunks.append({k: v[start:end, :cut] if v.dim() == 2 and v.shape[1] == width else v[start:end]
                       for k, v in batch.items()})
        start = end
    return chunks
