"""The score cache: task verifiers over many records, memoised, and code-running verifiers in a pool of small
processes (so the module is named for what it keeps, not "verify": the verifiers live in the task registry).

A verifier's score is a function of (task, answer, reference), so one curation run scores each distinct
triple once: the quality round's score of a record is the conflicts round's "own" score of it, and two
prompts worded differently with the same answer and the same unit tests need one sandbox run, not two.

Verifiers that execute code (a task with `executes_code = True`: tens of milliseconds a record, spent
starting a sandboxed interpreter) run in a pool of *spawned* processes: a sandbox start forks its caller,
and forking a curation process that holds a million records costs more than the test itself, while a
freshly spawned worker is small.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

_MEMO: dict[bytes, float | None] = {}
POOL_MIN = 8  # fewer distinct code runs than this are not worth starting a pool for


def clear() -> None:
    _MEMO.clear()


def has_reference(record: dict) -> bool:
    return record.get("reference") not in (None, "", [], {})


def runs_code(task) -> bool:
    return bool(getattr(task, "executes_code", False))


def _key(task_name: str, answer: str, record: dict) -> bytes:
    ref = json.dumps(record.get("reference"), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(f"{task_name}\x00{answer}\x00{ref}".encode("utf-8", "surrogatepass")).digest()


def score_now(task, answer: str, record: dict) -> float | None:
    """The task's score of `answer` against `record`'s reference; None without a reference or when the
    scorer cannot read it (no evidence either way)."""
    if task is None or not has_reference(record):
        return None
    try:
        return float(task.score(answer, record))
    except Exception:  # a reference in a shape the scorer does not expect
        return None


def score(task, answer: str, record: dict) -> float | None:
    """`score_now`, memoised for this run."""
    if task is None or not has_reference(record):
        return None
    key = _key(task.name, answer, record)
    if key not in _MEMO:
        _MEMO[key] = score_now(task, answer, record)
    return _MEMO[key]


def _remote(item: tuple[str, str, dict]) -> float | None:
    from mtsft import tasks

    name, answer, record = item
    return score_now(tasks.get(name), answer, record)


def score_many(items: list[tuple], workers: int = 1) -> list[float | None]:
    """Scores of (task, answer, record) triples; the distinct code-running ones not yet known run in a
    spawned pool of `workers` processes, the rest here."""
    keys = [None if t is None or not has_reference(r) else _key(t.name, a, r) for t, a, r in items]
    todo = {}
    for key, (task, answer, record) in zip(keys, items):
        if key is not None and key not in _MEMO and key not in todo:
            todo[key] = (task, answer, record)
    remote = [k for k, (t, _, _) in todo.items() if runs_code(t)] if workers > 1 else []
    if len(remote) >= POOL_MIN:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            jobs = [(todo[k][0].name, todo[k][1], todo[k][2]) for k in remote]
            for k, value in zip(remote, pool.map(_remote, jobs, chunksize=4)):
                _MEMO[k] = value
    for k, (task, answer, record) in todo.items():
        if k not in _MEMO:
            _MEMO[k] = score_now(task, answer, record)
    return [None if k is None else _MEMO[k] for k in keys]
