"""Packing without cross-example attention, and per-epoch mixture resampling."""

import random

import pytest
import torch

from mtsft.mixture import mixture_counts
from mtsft.train.config import MixtureConfig, TrainStage
from mtsft.train.packing import PackedCollator, pack_rows, single_rows
from mtsft.train.epochs import epoch_indices
from mtsft.train.tokenize import tokenize_conversation
from mtsft.train.trainer import token_losses


def _examples(tokenizer):
    convs = [
        [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4, of course."}],
        [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue"},
         {"role": "user", "content": "Another?"}, {"role": "assistant", "content": "Green is nice too."}],
        [{"role": "user", "content": "写一句诗"}, {"role": "assistant", "content": "床前明月光"}],
    ]
    out = []
    for i, c in enumerate(convs):
        tok = tokenize_conversation(tokenizer, c)
        out.append({"input_ids": tok.input_ids, "labels": tok.labels, "task_ids": [i] * len(tok.input_ids)})
    return out


def _per_example_loss(model, batch, trained_only):
    with torch.no_grad():
        loss, keep, _ = token_losses(model, batch, trained_only=trained_only)
    tasks = batch["task_ids"][:, 1:][keep]
    return {int(t): float(loss[tasks == t].mean()) for t in tasks.unique()}


@pytest.mark.parametrize("trained_only", [True, False])
def test_packed_row_loss_equals_each_example_run_alone(tokenizer, tiny_model, trained_only):
    examples = _examples(tokenizer)
    collate = PackedCollator(tokenizer.pad_token_id)
    rows = pack_rows(examples, pack_length=512, rng=random.Random(0))
    assert len(rows) == 1 and len(rows[0]["seq_lengths"]) == 3  # all three share one row
    packed = _per_example_loss(tiny_model, collate(rows), trained_only)
    alone = {}
    for e in examples:
        alone.update(_per_example_loss(tiny_model, collate(single_rows([e])), trained_only))
    assert packed.keys() == alone.keys()
    for task in alone:
        assert packed[task] == pytest.approx(alone[task], abs=1e-5)


def test_collator_restarts_positions_per_example_and_pads_without_labels(tokenizer):
    rows = [{"input_ids": [5, 6, 7, 8, 9], "labels": [-100, 6, 7, -100, 9], "task_ids": [0] * 5,
             "seq_lengths": [3, 2]}]
    batch = PackedCollator(tokenizer.pad_token_id, pad_to_multiple_of=8)(rows)
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1, 2]]
    assert batch["labels"][0, 5:].tolist() == [-100] * 3
    assert "attention_mask" not in batch  # an all-ones mask would let packed examples attend to each other


def _tasks(counts):
    return [t for t, n in counts.items() for _ in range(n)]


def test_epoch_draws_follow_the_shared_mixture_rule():
    counts = {"a": 100, "b": 10, "c": 1}
    stage = TrainStage(name="s", epochs=1, lr=1e-4, mixture=MixtureConfig(strategy="temperature", temperature=2))
    picked = epoch_indices(_tasks(counts), stage, seed=0, epoch=0)[0]
    tasks = _tasks(counts)
    got = {t: sum(1 for i in picked if tasks[i] == t) for t in counts}
    assert got == mixture_counts(counts, "temperature", temperature=2)


def test_each_epoch_draws_a_different_subset_of_a_downsampled_task():
    stage = TrainStage(name="s", epochs=2, lr=1e-4, mixture=MixtureConfig(strategy="uniform"))
    tasks = _tasks({"big": 50, "small": 5})
    e0 = epoch_indices(tasks, stage, seed=0, epoch=0)[0]
    e1 = epoch_indices(tasks, stage, seed=0, epoch=1)[0]
    big0 = {i for i in e0 if tasks[i] == "big"}
    assert set(e0) != set(e1) and big0 != {i for i in e1 if tasks[i] == "big"}
    assert e0 == epoch_indices(tasks, stage, seed=0, epoch=0)[0]  # and each epoch is reproducible


def test_stage_focus_with_replay_draws_a_share_of_the_other_tasks():
    tasks = _tasks({"hard": 40, "easy": 200})
    stage = TrainStage(name="h", epochs=1, lr=1e-4, tasks=["hard"], replay=0.1)
    picked = epoch_indices(tasks, stage, seed=0, epoch=0)[0]
    assert sum(tasks[i] == "hard" for i in picked) == 40
    assert sum(tasks[i] == "easy" for i in picked) == 4


def test_single_example_rows_run_positions_through_padding_so_no_mask_is_built(tokenizer):
    from transformers.masking_utils import find_packed_sequence_indices

    rows = [{"input_ids": [5, 6, 7], "labels": [-100, 6, 7], "task_ids": [0] * 3, "seq_lengths": [3]},
            {"input_ids": [5, 6, 7, 8, 9], "labels": [-100, 6, 7, 8, 9], "task_ids": [0] * 5, "seq_lengths": [5]}]
    batch = PackedCollator(tokenizer.pad_token_id, pad_to_multiple_of=1)(rows)
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 4]] * 2
    assert find_packed_sequence_indices(batch["position_ids"]) is None  # plain causal attention


def test_length_grouped_rows_batch_similar_lengths_together():
    from mtsft.train.packing import length_grouped_rows

    examples = [{"input_ids": [1] * n, "labels": [1] * n, "task_ids": [0] * n} for n in range(1, 33)]
    random.Random(0).shuffle(examples)
    rows = length_grouped_rows(examples, batch_size=4, rng=random.Random(0), chunk_batches=8)
    batches = [[len(r["input_ids"]) for r in rows[i:i + 4]] for i in range(0, 32, 4)]
    assert sorted(n for b in batches for n in b) == list(range(1, 33))
    assert all(max(b) - min(b) == 3 for b in batches)  # each batch is 4 consecutive lengths


def test_upsampled_draws_train_augmentations_not_verbatim_copies(tokenizer):
    from mtsft.train.config import TrainConfig
    from mtsft.train.examples import Encoded
    from mtsft.train.epochs import epoch_draws

    records = [{"id": f"r{i}", "task": t, "lang": "en", "messages": [
        {"role": "user", "content": f"Question number {i}?"}, {"role": "assistant", "content": f"Answer {i}."}]}
        for i, t in enumerate(["big"] * 6 + ["small"] * 2)]
    stage = TrainStage(name="s", epochs=1, lr=1e-4, mixture=MixtureConfig(strategy="uniform"))
    draws = epoch_draws([r["task"] for r in records], stage, seed=0, epoch=0)[0]
    small_copies = [(i, c) for i, c in draws if records[i]["task"] == "small"]
    assert len(small_copies) == 4 and {c for _, c in small_copies} == {0, 1}
    encoded = Encoded(records, tokenizer, TrainConfig(), ["big", "small"])
    i = small_copies[0][0]
    original, augmented = encoded.example(i, 0), encoded.example(i, 1)
    assert augmented["input_ids"] != original["input_ids"]
    trained = lambda e: [t for t, lab in zip(e["input_ids"], e["labels"]) if lab != -100]  # noqa: E731
    assert trained(augmented) == trained(original)  # the answer is unchanged, only the prompt varies
