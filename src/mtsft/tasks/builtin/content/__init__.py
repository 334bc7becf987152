"""The built-in tasks' content tables, kept as data: one JSONL file per table in this folder, one row per line.

Facts, sentences, topics, passage skeletons, code specs, math problem kinds and the classifier's hand-written
user prompts were Python literals; they are data, so they live here, and the task modules keep only the
logic that draws from them. Each file is read once per process. A row is a read-only value: its JSON
arrays are read as tuples (the shape the tables had when they were written as Python), and `rows` hands
each caller its own list of the shared rows. `digest()` hashes every file: the judge's and the task
classifier's cache keys include it, so edited content retrains them. The train / held-out partition of
every table is by a hash of each row's key (`partition.py`), not by file position.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from typing import Any

SUFFIX = ".jsonl"


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _files() -> list:
    return sorted((f for f in resources.files(__package__).iterdir() if f.name.endswith(SUFFIX)),
                  key=lambda f: f.name)


@functools.cache
def _table(name: str) -> tuple:
    source = resources.files(__package__) / f"{name}{SUFFIX}"
    out = []
    for lineno, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(_frozen(json.loads(line)))
        except json.JSONDecodeError as e:
            raise ValueError(f"{source}:{lineno}: not a JSON row ({e.msg})") from None
    return tuple(out)


def rows(name: str) -> list:
    """The rows of `content/<name>.jsonl` in file order: a new list each call, over rows read once."""
    return list(_table(name))


@functools.cache
def digest() -> str:
    """sha256 over every content file's name and bytes, in name order."""
    h = hashlib.sha256()
    for f in _files():
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()
