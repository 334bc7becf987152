"""Which float precision runs fastest here, decided by measuring: training (`train.precision`) and
evaluation (`eval.precision`) both ask this module, so `auto` means the same thing in both."""

from __future__ import annotations

import functools
import time

import torch
import torch.nn.functional as F


def cpu_supports_bf16() -> bool:
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=1)
def cpu_bf16_is_faster() -> bool:
    """Measure it: CPUs with AMX run bf16 matmuls several times faster than fp32, but CPUs with only
    AVX512-BF16 can run them slower (measured here: 77 vs 136 GFLOP/s on one core), so "supports
    bf16" is not enough. Times a layer-sized matmul in both (best of 5, about 0.1 s)."""
    if not cpu_supports_bf16():
        return False
    x, w = torch.randn(512, 576), torch.randn(1536, 576)

    def best(dtype) -> float:
        a, b = x.to(dtype), w.to(dtype)
        F.linear(a, b)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            F.linear(a, b)
            times.append(time.perf_counter() - start)
        return min(times)

    return best(torch.bfloat16) * 1.2 < best(torch.float32)


def resolve_precision(precision: str) -> str:
    """bf16 where the hardware runs it fast (CUDA with bf16; CPUs where a measured bf16 matmul beats
    fp32), fp16 on older GPUs, fp32 elsewhere; an explicit choice is checked, not silently changed."""
    cuda = torch.cuda.is_available()
    if precision == "auto":
        if cuda:
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if cpu_bf16_is_faster() else "fp32"
    if precision == "fp16" and not cuda:
        raise ValueError("precision fp16 needs a CUDA GPU; use bf16 or fp32 on CPU")
    return precision


def torch_dtype(precision: str) -> torch.dtype:
    """The torch dtype of a resolved precision (bf16, fp16, fp32)."""
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
