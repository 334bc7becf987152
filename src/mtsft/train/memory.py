"""Keep freed activation memory in the process (glibc) instead of handing it back to the OS each step.

glibc serves large blocks (above a dynamic threshold of at most 32 MB) with mmap and unmaps them on
free, so every training step page-faults its activations in again: measured on a 135M model, batch 8 x
448 tokens, 4.3 s of kernel time per step and 124 vs 161 tokens/s. Raising the mmap and trim thresholds
(mallopt, the same knobs as MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_) makes freed blocks reusable.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """True when applied (Linux with glibc); a no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) and libc.mallopt(M_TRIM_THRESHOLD, (1 << 31) - 1))
    except (OSError, AttributeError):
        return False
