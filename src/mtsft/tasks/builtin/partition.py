"""A fixed train / held-out partition of every content table, so evaluation draws new content.

The evaluation split (`generate(..., held_out=True)`) must measure generalisation, not recall of the
training pool: it draws facts, problem kinds, code specs, topics, sentences and entities that training
draws (`held_out=False`) never use. Each table is split once, deterministically, by a stable hash of each
row's key (its English text, or a function's name): a row is held out when its hash falls in the lowest
`HELD_OUT_SHARE` of the hash range, so a row keeps its side when rows are added to its table; only where
that would hold out fewer than `MIN_SHARE` or more than `MAX_SHARE` of a table (small tables) are rows
moved across by hash rank. Any table of two or more rows holds out at least one and trains on at least one.
The split does not depend on the RNG, the language, the task that draws from the table, or the Python
process (no `hash()` randomisation), so a fact held out of open_qa is also held out of translation.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence

HELD_OUT_SHARE = 0.22
MIN_SHARE, MAX_SHARE = 0.15, 0.30
_SALT = "mtsft-content-partition-v1"
_CACHE: dict[int, tuple[Sequence, list, list]] = {}


def row_key(row) -> str:
    """The stable identity of a row: a callable's name, a dict's "en" (or "name"), a tuple's first string."""
    if callable(row):
        return f"fn:{row.__module__}.{row.__name__}"
    if isinstance(row, dict):
        for k in ("key", "en", "name"):
            if k in row:
                return row_key(row[k])
        return repr(sorted(row.items(), key=lambda kv: str(kv[0])))
    if isinstance(row, (tuple, list)):
        return row_key(row[0]) if row else "()"
    return str(row)


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{_SALT}:{key}".encode(), digest_size=8).digest(), "big")


def split(table: Sequence) -> tuple[list, list]:
    """(training rows, held-out rows) of `table`, each in table order; computed once per table."""
    cached = _CACHE.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1], cached[2]
    n = len(table)
    hashes = [_hash(row_key(row)) for row in table]
    ranked = sorted(range(n), key=lambda i: (hashes[i], i))
    n_held = sum(h < HELD_OUT_SHARE * 2 ** 64 for h in hashes)
    if n >= 2:
        lo, hi = max(1, math.ceil(MIN_SHARE * n)), max(1, math.floor(MAX_SHARE * n))
        n_held = min(n - 1, max(lo, min(hi, n_held)))
    else:
        n_held = 0
    held_idx = set(ranked[:n_held])
    train = [row for i, row in enumerate(table) if i not in held_idx]
    held = [row for i, row in enumerate(table) if i in held_idx]
    keys = [row_key(r) for r in table]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"content table has two rows with the key {dup!r}: the partition needs unique keys")
    _CACHE[id(table)] = (table, train, held)  # the table itself is kept so its id stays valid
    return train, held


def part(table: Sequence, held_out: bool) -> list:
    """The rows a draw may use: the held-out ones for evaluation, the others for training."""
    train, held = split(table)
    return held if held_out else train


def choose(rng: random.Random, table: Sequence, held_out: bool, lang: str | None = None):
    """One row from the right part of `table`; with `lang`, a {"en", "zh"} row gives that language."""
    row = rng.choice(part(table, held_out))
    return row[lang] if lang is not None and isinstance(row, dict) else row


def sample(rng: random.Random, table: Sequence, k: int, held_out: bool) -> list:
    return rng.sample(part(table, held_out), k)
