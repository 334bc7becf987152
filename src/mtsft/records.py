"""The one record schema every stage reads and writes, and its JSONL readers and writers.

A record is a plain dict (not a class instance) so that a million of them stay cheap and every stage can
pass them to datasets/pandas/Ray unchanged:

    {"id", "messages": [{"role", "content"}...], "task", "lang", "source", "reference", "meta"}

`validate_messages` is the single definition of a well-formed conversation: importers, curation and
training all call it, so "valid" means one thing everywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mtsft.text import detect_lang

ROLES = ("system", "user", "assistant")
LANGS = ("zh", "en", "mixed")
FIELDS = ("id", "messages", "task", "lang", "source", "reference", "meta")
# The one label for "no task": unlabeled records, and those the classifier would not decide. Tables,
# per-task losses and curation all count such records under this name.
NO_TASK = "uncertain"


class RecordError(ValueError):
    """A record that cannot be kept; the message is the reason written to the rejected file."""


def validate_messages(messages: Any) -> list[dict]:
    """Return the messages as clean {role, content} dicts or raise RecordError naming the first problem."""
    if not isinstance(messages, list) or not messages:
        raise RecordError("empty conversation")
    clean = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise RecordError(f"message {i} is not an object")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise RecordError(f"message {i} has unknown role {role!r}")
        if not isinstance(content, str):
            raise RecordError(f"message {i} ({role}) content is {type(content).__name__}, not a string")
        if not content.strip():
            raise RecordError(f"message {i} ({role}) is empty")
        clean.append({"role": role, "content": content})
    turns = [m["role"] for m in clean if m["role"] != "system"]
    if any(m["role"] == "system" for m in clean[1:]):
        raise RecordError("system message after the first position")
    if not turns:
        raise RecordError("conversation has no user or assistant turn")
    if turns[0] != "user":
        raise RecordError("conversation starts with the assistant")
    if turns[-1] != "assistant":
        raise RecordError("conversation ends on a user turn (no answer to train on)")
    for a, b in zip(turns, turns[1:]):
        if a == b:
            raise RecordError(f"two {a} turns in a row")
    return clean


def content_id(messages: list[dict]) -> str:
    """Stable id from the conversation's content: the same conversation always gets the same id."""
    blob = json.dumps([[m["role"], m["content"]] for m in messages], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]


def make_record(
    messages: list[dict],
    *,
    source: str,
    task: str | None = None,
    lang: str | None = None,
    reference: Any = None,
    meta: dict | None = None,
    id: str | None = None,
) -> dict:
    """Build a schema record from raw messages; validates them and fills id and lang when absent."""
    messages = validate_messages(messages)
    if lang is not None and lang not in LANGS:
        raise RecordError(f"unknown lang {lang!r} (expected one of {', '.join(LANGS)})")
    return {
        "id": str(id) if id not in (None, "") else content_id(messages),
        "messages": messages,
        "task": task,
        "lang": lang or detect_lang(" ".join(m["content"] for m in messages if m["role"] != "system")),
        "source": source,
        "reference": reference,
        "meta": dict(meta or {}),
    }


# ---- views that stages use instead of indexing messages by hand -------------------------------------

def task_of(record: dict) -> str:
    return record.get("task") or NO_TASK


def system_prompt(record: dict) -> str | None:
    first = record["messages"][0]
    return first["content"] if first["role"] == "system" else None


def prompt(record: dict) -> str:
    """The first user turn: the instruction that decides the record's task."""
    return next(m["content"] for m in record["messages"] if m["role"] == "user")


def response(record: dict) -> str:
    """The last assistant turn: the answer that verifiers score."""
    return next(m["content"] for m in reversed(record["messages"]) if m["role"] == "assistant")


def assistant_turns(record: dict) -> list[str]:
    return [m["content"] for m in record["messages"] if m["role"] == "assistant"]


def conversation_text(record: dict) -> str:
    return "\n".join(m["content"] for m in record["messages"])


# ---- JSONL i/o ----------------------------------------------------------------------------------------

def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any, str | None]]:
    """Yield (line number, parsed object or None, error or None) for each non-blank line.

    Never raises on a bad line: invalid UTF-8 and malformed JSON come back as errors so the caller can
    reject that line and go on. A UTF-8 byte-order mark on the first line is dropped.
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield lineno, raw.decode("utf-8", "replace").rstrip("\n"), f"invalid UTF-8 at byte {e.start}"
                continue
            try:
                yield lineno, json.loads(text), None
            except json.JSONDecodeError as e:
                yield lineno, text.rstrip("\n"), f"malformed JSON: {e.msg} at column {e.colno}"


def read_records(path: str | Path, *, require: tuple[str, ...] = ()) -> list[dict]:
    """Read a file already in the record schema; a bad line is an error naming file and line.

    `require` names extra string fields every record must carry (e.g. "prediction" for scoring).
    """
    out = []
    for lineno, obj, err in iter_jsonl(path):
        if err:
            raise RecordError(f"{path}:{lineno}: {err}")
        if not isinstance(obj, dict) or "messages" not in obj:
            raise RecordError(f"{path}:{lineno}: not an mtsft record (no 'messages'); import it with `mtsft data import`")
        for key in require:
            if not isinstance(obj.get(key), str):
                raise RecordError(f"{path}:{lineno}: no string `{key}` field")
        out.append(obj)
    return out


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as UTF-8 JSONL (keys in schema order for records); returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
