"""TRL's SFTTrainer with what multi-task SFT adds: a loss that is the token mean over assistant tokens
of packed rows, logits only where the loss needs them, and a per-task training loss.

Only `compute_loss` and `log` are overridden; the loop, checkpoints, resume, accelerate/DDP/FSDP/DeepSpeed
integration and eval-dict handling are the Trainer's own.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from trl import SFTTrainer

from mtsft.train.packing import token_budget_chunks
from mtsft.train.tokenize import IGNORE


@contextlib.contextmanager
def logits_only_where(model, keep: torch.Tensor):
    """Make the LM head see only the positions in `keep` (a bool mask over [:, :-1]).

    With a 49k vocabulary the LM head is a large share of a 135M model's work, yet the loss needs it
    only on assistant tokens. A forward pre-hook on the output embedding selects those hidden states, so
    the model's own forward (and any DDP/FSDP wrapper around it) still runs unchanged; the logits come
    back as (1, kept, vocab).
    """
    head = model.get_output_embeddings()

    def select(_module, args):
        hidden = args[0]
        return (hidden[:, :-1][keep].unsqueeze(0), *args[1:])

    handle = head.register_forward_pre_hook(select)
    try:
        yield
    finally:
        handle.remove()


def token_losses(model, batch: dict, *, trained_only: bool = True, head_owner=None):
    """Cross-entropy of every trained token of a (packed) batch, the mask of those tokens over
    [:, :-1], and the model outputs. Position ids and no attention mask: see packing.py."""
    targets = batch["labels"][:, 1:]
    keep = targets != IGNORE
    ctx = logits_only_where(head_owner or model, keep) if trained_only else contextlib.nullcontext()
    with ctx:
        outputs = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False)
    logits = outputs.logits[0] if trained_only else outputs.logits[:, :-1][keep]
    return F.cross_entropy(logits.float(), targets[keep], reduction="none"), keep, outputs


@contextlib.contextmanager
def checkpointed(model):
    """Activation checkpointing for the block (transformers' own switch), when it is not on already."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if getattr(base, "is_activation_checkpointing", True) or not getattr(base, "supports_gradient_checkpointing", False):
        yield
        return
    base.activation_checkpointing_enable()
    try:
        yield
    finally:
        base.activation_checkpointing_disable()


class MultiTaskSFTTrainer(SFTTrainer):
    # compute_loss already divides by the token count of the whole accumulated batch
    loss_is_scaled_for_ga = True

    def __init__(self, *args, task_names: list[str], lm_head_trained_only: bool = True,
                 max_batch_tokens: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task_names = task_names
        self.lm_head_trained_only = lm_head_trained_only
        self.max_batch_tokens = max_batch_tokens
        self._task_loss = torch.zeros(len(task_names), dtype=torch.float64)
        self._task_tokens = torch.zeros(len(task_names), dtype=torch.float64)
        self.tokens_processed = 0   # non-padding tokens seen by this process since start
        self.tokens_trained = 0     # of which had a loss

    def training_step(self, model, inputs, num_items_in_batch=None):
        """One batch, run forward and backward in chunks of at most `max_batch_tokens` tokens.

        Activation memory grows with the tokens of one forward pass (about 2 MB a token for the 135M demo
        model: a batch of 8 CMRC rows of ~1,000 tokens held ~15 GB). Each chunk's loss is its trained tokens'
        summed loss over the whole batch's count (`num_items_in_batch`), so the chunks' gradients add up to
        the batch's own: the same optimizer step, up to float rounding. Not under FSDP/DeepSpeed (their
        engines own the backward), nor without a token count (the per-chunk mean would weigh chunks wrongly).
        """
        chunks = token_budget_chunks(inputs, self.max_batch_tokens)
        if len(chunks) == 1 or num_items_in_batch is None or self.is_fsdp_enabled or self.is_deepspeed_enabled:
            with self._long_row_checkpointed(model, inputs):
                return super().training_step(model, inputs, num_items_in_batch)
        total = 0.0
        for i, chunk in enumerate(chunks):
            # DDP: gradients are reduced once, on the last chunk (the outer step decides whether it syncs)
            sync = contextlib.nullcontext() if i == len(chunks) - 1 else self.accelerator.no_sync(model)
            with sync, self._long_row_checkpointed(model, chunk):
                total = total + super().training_step(model, chunk, num_items_in_batch)
        return total

    def _long_row_checkpointed(self, model, chunk):
        """Activation checkpointing for a chunk over the token budget: a single row longer than
        `max_batch_tokens` cannot be split, and at ~2 MB of activations a token the demo's ~1,000-token CMRC
        rows set the training peak (4.5 GB). Recomputing their forward costs about a third of their step; the
        rows within the budget keep their activations and their speed."""
        if self.max_batch_tokens is None or chunk["input_ids"].numel() <= self.max_batch_tokens or \
                self.is_fsdp_enabled or self.is_deepspeed_enabled:
            return contextlib.nullcontext()
        return checkpointed(self.accelerator.unwrap_model(model))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        token_loss, keep, outputs = token_losses(model, inputs, trained_only=self.lm_head_trained_only,
                                                 head_owner=self.accelerator.unwrap_model(model))
        if model.training:
            self._account(token_loss.detach(), inputs["task_ids"][:, 1:][keep], inputs)
        if num_items_in_batch is None:
            loss = token_loss.sum() / max(1, token_loss.numel())
            if model.training:
                loss = loss / self.current_gradient_accumulation_steps
        else:
            # num_items_in_batch counts the whole accumulated batch on all processes; DDP then averages
            # the gradients over processes, so scale back up by their number (as Trainer.compute_loss does).
            loss = token_loss.sum() / num_items_in_batch
            if self.args.average_tokens_across_devices:
                loss = loss * self.accelerator.num_processes
        return (loss, outputs) if return_outputs else loss

    def _account(self, token_loss: torch.Tensor, token_task: torch.Tensor, inputs) -> None:
        token_task = token_task.cpu()
        self._task_loss.index_add_(0, token_task, token_loss.cpu().double())
        self._task_tokens.index_add_(0, token_task, torch.ones_like(token_loss, device="cpu").double())
        self.tokens_trained += int(token_loss.numel())
        self.tokens_processed += int((inputs["task_ids"] >= 0).sum())

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._task_tokens.sum() > 0:
            sums = self.accelerator.reduce(self._task_loss.to(self.args.device), "sum").cpu()
            counts = self.accelerator.reduce(self._task_tokens.to(self.args.device), "sum").cpu()
            for i, task in enumerate(self.task_names):
                if counts[i] > 0:
                    logs[f"train_{task}_loss"] = round(float(sums[i] / counts[i]), 6)
            self._task_loss.zero_()
            self._task_tokens.zero_()
        super().log(logs, start_time)
