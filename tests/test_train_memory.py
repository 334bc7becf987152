"""Issue 29.1: a batch runs in forward passes of at most `max_batch_tokens` tokens, the same training step."""

import random

import pytest
import torch

from mtsft.train.packing import PackedCollator, pack_rows, single_rows, token_budget_chunks
from mtsft.train.tokenize import IGNORE


def _examples(n: int, seed: int = 0) -> list[dict]:
    """Examples of mixed lengths (3 to 90 tokens), each its own task, labels on their second half."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        length = rng.randint(3, 90)
        ids = [rng.randrange(5, 1000) for _ in range(length)]
        labels = [IGNORE] * (length // 2) + ids[length // 2:]
        out.append({"input_ids": ids, "labels": labels, "task_ids": [i] * length})
    return out


def _batch(batching: str, n: int = 10):
    examples = _examples(n)
    rows = pack_rows(examples, 128, random.Random(0)) if batching == "packed" else single_rows(examples)
    return PackedCollator(pad_token_id=0)(rows)


@pytest.mark.parametrize("batching", ["grouped", "packed"])
@pytest.mark.parametrize("budget", [8, 100, 256, 10_000])
def test_token_budget_chunks_keep_every_row_exactly_once_within_the_budget(batching, budget):
    batch = _batch(batching)
    chunks = token_budget_chunks(batch, budget)
    # every row once, in order, every real token kept (only right padding is cut)
    rows = [(tuple(t for t in row.tolist() if t >= 0), tuple(ids.tolist()[:sum(1 for t in row if t >= 0)]))
            for c in chunks for row, ids in zip(c["task_ids"], c["input_ids"])]
    whole = [(tuple(t for t in row.tolist() if t >= 0), tuple(ids.tolist()[:sum(1 for t in row if t >= 0)]))
             for row, ids in zip(batch["task_ids"], batch["input_ids"])]
    assert rows == whole
    for c in chunks:
        assert set(c) == set(batch)
        rows_in, width = c["input_ids"].shape
        assert rows_in * width <= budget or rows_in == 1   # a row longer than the budget goes alone
        assert all(v.shape == (rows_in, width) for v in c.values())
    if budget >= batch["input_ids"].numel():
        assert chunks == [batch]


@pytest.fixture
def trainer_for(tokenizer, tiny_model, tmp_path):
    from trl import SFTConfig

    from mtsft.train.examples import rows_dataset
    from mtsft.train.trainer import MultiTaskSFTTrainer

    def make(budget):
        args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, report_to=[], remove_unused_columns=False,
                         dataset_kwargs={"skip_prepare_dataset": True}, max_length=None, packing=False,
                         disable_tqdm=True)
        rows = single_rows(_examples(4))
        return MultiTaskSFTTrainer(model=tiny_model, args=args, train_dataset=rows_dataset(rows),
                                   data_collator=PackedCollator(tokenizer.pad_token_id), processing_class=tokenizer,
                                   task_names=[str(i) for i in range(10)], max_batch_tokens=budget)
    return make


@pytest.mark.parametrize("batching", ["grouped", "packed"])
def test_token_budget_step_has_the_unbatched_loss_and_gradients(trainer_for, tiny_model, batching):
    batch = _batch(batching)
    n_items = (batch["labels"][:, 1:] != IGNORE).sum()
    results = []
    for budget in (None, 100):
        trainer = trainer_for(budget)
        assert len(token_budget_chunks(batch, budget)) == (1 if budget is None else
                                                           len(token_budget_chunks(batch, 100)))
        tiny_model.zero_grad(set_to_none=True)
        loss = trainer.training_step(tiny_model, dict(batch), num_items_in_batch=n_items)
        grads = {n: p.grad.clone() for n, p in tiny_model.named_parameters() if p.grad is not None}
        per_task = (trainer._task_loss / trainer._task_tokens.clamp(min=1)).clone()
        results.append((float(loss), grads, per_task, trainer.tokens_trained, trainer.tokens_processed))
    (loss_whole, g_whole, task_whole, trained_whole, seen_whole), (loss_chunked, g_chunked, task_chunked, trained, seen) = results
    assert len(token_budget_chunks(batch, 100)) > 2   # the budget really split the batch
    assert loss_chunked == pytest.approx(loss_whole, rel=1e-5)
    assert g_chunked.keys() == g_whole.keys() and g_whole
    for name, g in g_whole.items():
        torch.testing.assert_close(g_chunked[name], g, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(task_chunked, task_whole, rtol=1e-5, atol=1e-7)
    assert (trained, seen) == (trained_whole, seen_whole) == (int(n_items), int((batch["task_ids"] >= 0).sum()))


def test_a_row_over_the_budget_runs_checkpointed_with_the_same_gradients(trainer_for, tiny_model, monkeypatch):
    """A row longer than `max_batch_tokens` cannot be split: its chunk recomputes its activations in the backward
    (activation checkpointing, on for that chunk only) and gives the gradients the whole batch gives."""
    import mtsft.train.trainer as trainer_mod

    batch = _batch("grouped")
    n_items = (batch["labels"][:, 1:] != IGNORE).sum()
    used = []
    real = trainer_mod.checkpointed

    def watching(model):
        used.append(True)
        return real(model)

    monkeypatch.setattr(trainer_mod, "checkpointed", watching)
    grads = []
    for budget in (None, 8):   # 8 tokens: every row is over the budget
        trainer = trainer_for(budget)
        tiny_model.zero_grad(set_to_none=True)
        trainer.training_step(tiny_model, dict(batch), num_items_in_batch=n_items)
        grads.append({n: p.grad.clone() for n, p in tiny_model.named_parameters() if p.grad is not None})
        assert not tiny_model.is_activation_checkpointing   # switched off again after each chunk
    over = [c for c in token_budget_chunks(batch, 8) if c["input_ids"].numel() > 8]
    assert len(used) == len(over) >= 5    # each chunk over the budget checkpointed, none without a budget
    for name, g in grads[0].items():
        torch.testing.assert_close(grads[1][name], g, rtol=1e-4, atol=1e-6)
