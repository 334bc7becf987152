"""Batched greedy generation: left padding and the KV cache, the one generation path eval and chat use.

Batching matters on CPU: batch 8 gives about 6x and batch 32 about 11x the tokens/s of batch 1 for the
135M model. Prompts are sorted by length so each batch pads little, and answers come back in input order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from mtsft.tags import apply_task_tag


def render_prompts(tokenizer, conversations: Sequence[list[dict]], tasks: Sequence[str | None] | None = None,
                   tag_mode: str = "none", langs: Sequence[str | None] | None = None) -> list[str]:
    """Chat-template text ending with the assistant generation prompt, task-tagged like training."""
    out = []
    for i, messages in enumerate(conversations):
        if tasks is not None:
            messages = apply_task_tag(messages, tasks[i], tag_mode, langs[i] if langs else None)
        out.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return out


@torch.inference_mode()
def generate(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int = 256, batch_size: int = 16,
             progress: bool = False) -> list[str]:
    """Greedy completions of already-rendered prompts (see `render_prompts`)."""
    tokenizer.padding_side = "left"  # generation appends on the right, so pads must sit on the left
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    results: list[str] = [""] * len(prompts)
    model.eval()
    batches = range(0, len(order), batch_size)
    for start in tqdm(batches, desc="generate", disable=not progress):
        idx = order[start:start + batch_size]
        enc = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, use_cache=True,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        new = out[:, enc["input_ids"].shape[1]:]
        for i, row in zip(idx, new):
            results[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
    return results
