"""Per-record curation work across processes: fixed-size chunks, results back in input order.

The rounds' per-record parts are batch functions `fn(records, *args) -> list` (one result per record).
`map_chunks` runs one over a list of records in `workers` processes; the Ray engine calls the same
functions from `map_batches`. Chunks have a fixed size whatever the worker count, and results are put
back in input order, so the outcome never depends on how many workers ran.

Hand-written rather than `multiprocessing.Pool.map` over the records: the records are not pickled to the
workers. They are forked from the parent after it parks the list in a module global, read it copy-on-write
and send back only their small per-record results (a million records pickled both ways would cost more
than the work). Where fork is unavailable, or for one worker, the chunks run in this process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor

CHUNK = 2_000
_SHARED: dict = {}


def default_workers() -> int:
    """Cores this process may use (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _run_chunk(start: int, stop: int) -> list:
    fn, records, args = _SHARED["fn"], _SHARED["records"], _SHARED["args"]
    return fn(records[start:stop], *args)


def map_chunks(fn, records: list, args: tuple = (), workers: int = 1, chunk: int = CHUNK) -> list:
    """`fn(records[i:j], *args)` over fixed chunks, concatenated in order (one result per record)."""
    bounds = [(s, min(s + chunk, len(records))) for s in range(0, len(records), chunk)]
    if workers <= 1 or len(bounds) <= 1 or "fork" not in mp.get_all_start_methods():
        return [x for s, e in bounds for x in fn(records[s:e], *args)]
    _SHARED.update(fn=fn, records=records, args=args)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(bounds)), mp_context=mp.get_context("fork")) as pool:
            parts = list(pool.map(_run_chunk, *zip(*bounds)))
    finally:
        _SHARED.clear()
    return [x for part in parts for x in part]
