"""LoRA or full fine-tuning, and which precision: decided by a written rule that says why.

`method: auto` rule (the seed's rule of thumb, measured again by bench/bench_lora_vs_full.py):
- fewer than `auto_lora_below` (2,000) records: LoRA. Small data overfits and forgets less through a
  low-rank update, and LoRA trains faster per step.
- more than `auto_full_above` (5,000) records over 2+ tasks, and full fine-tuning fits in memory
  (fp32 weights + gradients + two Adam moments = 16 bytes per parameter, plus a 30% margin for
  activations, within 80% of the memory available): full. Many tasks want the capacity.
- otherwise: LoRA.
"""

from __future__ import annotations

import psutil
import torch

from mtsft.precision import cpu_bf16_is_faster, cpu_supports_bf16, resolve_precision  # noqa: F401  (re-exported)

BYTES_PER_PARAM_FULL = 16  # fp32 weight + grad + Adam m and v


def available_memory_bytes() -> int:
    if torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info()
        return int(free)
    return int(psutil.virtual_memory().available)


def full_finetune_bytes(n_params: int) -> int:
    return int(n_params * BYTES_PER_PARAM_FULL * 1.3)


def choose_method(method: str, *, n_records: int, n_tasks: int, n_params: int, lora_below: int = 2000,
                  full_above: int = 5000, memory_bytes: int | None = None) -> tuple[str, str]:
    """(method, reason) for the config's `method`; only "auto" is decided here."""
    if method != "auto":
        return method, f"method: {method} set in the config"
    if n_records < lora_below:
        return "lora", f"auto: {n_records} records < {lora_below}, LoRA (small data: less overfitting and forgetting)"
    memory = available_memory_bytes() if memory_bytes is None else memory_bytes
    need = full_finetune_bytes(n_params)
    if n_records > full_above and n_tasks >= 2:
        if need <= 0.8 * memory:
            return "full", (f"auto: {n_records} records over {n_tasks} tasks > {full_above}, and full "
                            f"fine-tuning needs ~{need / 2**30:.1f} GiB of {memory / 2**30:.1f} GiB free: full")
        return "lora", (f"auto: {n_records} records would call for full fine-tuning, but it needs "
                        f"~{need / 2**30:.1f} GiB and {memory / 2**30:.1f} GiB is free: LoRA")
    return "lora", f"auto: {n_records} records, {n_tasks} task(s): between the thresholds, LoRA"


def resolve_batching(batching: str) -> str:
    """`auto` -> "packed" where flash-attention's varlen kernels make packing free (CUDA with flash-attn
    installed), else "grouped" (on CPU SDPA the packed rows' dense block-diagonal mask costs more)."""
    if batching != "auto":
        return batching
    import importlib.util

    import torch

    return "packed" if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") else "grouped"
