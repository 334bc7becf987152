"""Per-record curation work across processes: fixed-size chunks, results back in input order.

The rounds' per-record parts are batch functions `fn(records, *args) -> list` (one result per record).
`map_chunks` runs one over a list of records in `workers` processes; the Ray engine calls the same
functions from `map_batches`. Chunks have a fixed size whatever the worker count, and results are put
back in input order, so the outcome never depends on how many workers ran.

The rounds' global steps are group-bys on per-record keys (`groups_of`): a dict here, a Ray Data
`groupby` under that engine, the same groups in the same order either way.

Hand-written rather than `multiprocessing.Pool.map` over the records: the records are not pickled to the
workers. They are forked from the parent after it parks the list in a module global, read it copy-on-write
and send back only their small per-record results (a million records pickled both ways would cost more
than the work). Where fork is unavailable, or for one worker, the chunks run in this process.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

CHUNK = 2_000
WAVE = 16  # chunks per worker before the workers are replaced by fresh forks (see `_fork_wave`)
_SHARED: dict = {}
_ENGINE: dict = {}  # {"map_parts": fn}: another engine (Ray Data) running the same chunks


class use_engine:
    """Within this block, every `map_parts` call runs on `engine_map_parts(fn, records, args, chunk)` and,
    when given, every `groups_of` call on `engine_groups_of(keys, min_size)`, instead of the local pool and
    dict: the rounds keep one implementation whatever runs them."""

    def __init__(self, engine_map_parts, engine_groups_of=None):
        self.fns = {"map_parts": engine_map_parts, "groups_of": engine_groups_of}

    def __enter__(self):
        _ENGINE.update({k: f for k, f in self.fns.items() if f is not None})
        return self

    def __exit__(self, *exc):
        for k in self.fns:
            _ENGINE.pop(k, None)


def engine_active() -> bool:
    return "map_parts" in _ENGINE


def engine_groups() -> bool:
    """Whether another engine runs the group-bys (`groups_of`)."""
    return "groups_of" in _ENGINE


def groups_of(keys, min_size: int = 2) -> list[np.ndarray]:
    """The global steps' group-by: the member indices of each group of equal `keys` with at least
    `min_size` members, members ascending, groups in the order of their first member. `keys` is a
    sequence of hashables (strings, numbers, tuples) or a 2-D integer array (rows are compound keys).
    Here a dict; under another engine (Ray Data `groupby`) a shuffle across its cluster, with the same
    result. Callers then decide per group in the driver: groups of two or more are few."""
    if "groups_of" in _ENGINE and len(keys):
        return _ENGINE["groups_of"](keys, min_size)
    if isinstance(keys, np.ndarray) and keys.ndim == 2:
        keys = map(tuple, keys.tolist())
    by: dict = {}
    for i, k in enumerate(keys):
        by.setdefault(k, []).append(i)
    return [np.array(m, dtype=np.int64) for m in by.values() if len(m) >= min_size]


def groups_from_pairs(first: np.ndarray, rows: np.ndarray, min_size: int) -> list[np.ndarray]:
    """Groups given as (first member, member) pairs in any order (what a distributed group-by sends back),
    in `groups_of`'s order: members ascending, groups by their first member."""
    order = np.lexsort((rows, first))
    first, rows = first[order], rows[order]
    cuts = np.flatnonzero(np.diff(first)) + 1
    return [g for g in np.split(rows.astype(np.int64), cuts) if len(g) >= min_size] if len(rows) else []


def default_workers() -> int:
    """Cores this process may use (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _run_chunk(start: int, stop: int) -> list:
    fn, records, args = _SHARED["fn"], _SHARED["records"], _SHARED["args"]
    return fn(records[start:stop], *args)


def map_parts(fn, records: list, args: tuple = (), workers: int = 1, chunk: int = CHUNK) -> list:
    """[`fn(records[i:j], *args)` for each fixed chunk], in order. `fn` and `args` reach forked workers
    by inheritance, so they need not pickle (a lambda is fine); each part's result is pickled back."""
    if "map_parts" in _ENGINE and records:
        return _ENGINE["map_parts"](fn, records, args, chunk)
    bounds = [(s, min(s + chunk, len(records))) for s in range(0, len(records), chunk)]
    if workers <= 1 or len(bounds) <= 1 or "fork" not in mp.get_all_start_methods():
        return [fn(records[s:e], *args) for s, e in bounds]
    _SHARED.update(fn=fn, records=records, args=args)
    workers = min(workers, len(bounds))
    results: list = []
    try:
        for first in range(0, len(bounds), workers * WAVE):
            results += _fork_wave(bounds[first:first + workers * WAVE], workers)
        return results
    finally:
        _SHARED.clear()


def _fork_wave(bounds: list[tuple[int, int]], workers: int) -> list:
    """One wave of chunks in freshly forked workers. A forked worker shares the parent's pages until it
    writes to them, and reading a record writes its reference counts: a worker that lived through a whole
    round would end up holding a private copy of every record it read (measured: the workers' unique memory
    grew past the parent's own). Workers that last one wave free those copies at every wave. `gc.freeze()`
    keeps the workers' garbage collector from touching (and so copying) every object the parent holds."""
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            return list(pool.map(_run_chunk, *zip(*bounds)))
    finally:
        gc.unfreeze()


def map_chunks(fn, records: list, args: tuple = (), workers: int = 1, chunk: int = CHUNK) -> list:
    """`fn(records[i:j], *args)` over fixed chunks, concatenated in order (one result per record)."""
    return [x for part in map_parts(fn, records, args, workers, chunk) for x in part]
