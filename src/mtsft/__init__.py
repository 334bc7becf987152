"""mtsft: multi-task supervised fine-tuning that keeps tasks apart.

Importing the package sets the OpenMP thread settings before anything can import torch (its OpenMP
runtime reads them once, when it loads), so every entry point gets them: the `mtsft` command, `python -m
mtsft`, a notebook's `import mtsft`, and every child process (accelerate's workers, curation's forked
workers), which inherit the environment:

- `OMP_WAIT_POLICY=PASSIVE`: an OpenMP thread that finds no work sleeps instead of spinning. With the
  default (spinning) policy a demo LoRA step took 43 s instead of 5.3 s on a 2-core machine beside one
  other busy process: the spinning threads hold the cores the busy one needs, and the team waits for the
  thread that lost its core at every barrier (bench/bench_busy.py measures it).
- `OMP_NUM_THREADS`: the cores this process may use (its affinity mask, not the machine's count).

Both are defaults only. A value already in the environment is kept (`OMP_WAIT_POLICY=ACTIVE`,
`OMP_NUM_THREADS=4`); `MTSFT_THREADS=N` sets mtsft's thread count (and `OMP_NUM_THREADS` with it); a
command's own `--threads` or the training config's `threads` still decide for that command.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

THREADS_ENV = "MTSFT_THREADS"


def usable_cpus() -> int:
    """Cores this process may run on (the affinity mask: a container's or `taskset`'s share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _positive_int(text: str | None) -> int | None:
    try:
        value = int(str(text).split(",")[0].strip())  # OMP_NUM_THREADS may list nested levels: "4,2"
    except ValueError:
        return None
    return value if value >= 1 else None


def _mtsft_threads() -> int | None:
    raw = os.environ.get(THREADS_ENV, "").strip()
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


def threads_error() -> str | None:
    """What is wrong with `MTSFT_THREADS`, if it is set and unusable (the command line refuses it; the
    library ignores it rather than fail an import)."""
    raw = os.environ.get(THREADS_ENV, "")
    if not raw.strip() or _mtsft_threads() is not None:
        return None
    return f"{THREADS_ENV}={raw!r}: expected a whole number of threads, at least 1"


def _configure_threads() -> int | None:
    """Set the OpenMP defaults in the environment; returns the thread count the user chose, if any."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    mine = _mtsft_threads()
    if mine is not None:
        os.environ["OMP_NUM_THREADS"] = str(mine)
        return mine
    if "OMP_NUM_THREADS" in os.environ:  # the user's (or a launcher's) own value is kept as it is
        return _positive_int(os.environ["OMP_NUM_THREADS"])
    os.environ["OMP_NUM_THREADS"] = str(usable_cpus())
    return None


_USER_THREADS = _configure_threads()


def threads_per_process(processes: int = 1) -> int:
    """Threads for each of `processes` mtsft processes sharing this machine: the user's count when one was
    given (`MTSFT_THREADS`, else `OMP_NUM_THREADS` as found), else the usable cores shared out."""
    if _USER_THREADS is not None:
        return _USER_THREADS
    return max(1, usable_cpus() // max(1, processes))
