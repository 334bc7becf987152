"""The one record schema every stage reads and writes, and its JSONL readers and writers.

A record is a plain dict (not a class instance) so that a million of them stay cheap and every stage can
pass them to datasets/pandas/Ray unchanged:

    {"id", "messages": [{"role", "content"}...], "task", "lang", "source", "reference", "meta"}

`validate_messages` is the single definition of a well-formed conversation: importers, curation and
training all call it, so "valid" means one thing everywhere.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mtsft.outputs import (TMP_MARK, atomic_writer, clear_stale_tmp, json_line, tmp_name,  # noqa: F401
                           write_json_atomic, write_jsonl, write_lines, write_text_atomic)
from mtsft.text import detect_lang

ROLES = ("system", "user", "assistant")
LANGS = ("zh", "en", "mixed")
FIELDS = ("id", "messages", "task", "lang", "source", "reference", "meta")
# The one label for a record whose task is not known: unlabeled records, and those the classifier would not
# decide. Tables, per-task losses and curation all count such records under this name. (Not the crosstalk
# judge's NO_TASK, "none": an output that performs no task at all.)
UNCERTAIN_TASK = "uncertain"


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
    return record.get("task") or UNCERTAIN_TASK


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


def turn_specs(record: dict) -> list[dict] | None:
    """A multi-turn eval record's `meta.turns` (one {"task", "reference", "lang"?, "meta"?} per assistant
    turn, in order: `mtsft.tasks.multiturn`), or None when it has none; RecordError names what is wrong."""
    meta = record.get("meta")
    turns = meta.get("turns") if isinstance(meta, dict) else None
    if turns is None:
        return None
    answers = sum(1 for m in record.get("messages") or [] if isinstance(m, dict) and m.get("role") == "assistant")
    if not isinstance(turns, list) or not turns:
        raise RecordError("meta.turns must be a non-empty list (one entry per assistant turn)")
    if len(turns) != answers:
        raise RecordError(f"meta.turns has {len(turns)} entries but the conversation has {answers} assistant turns")
    for i, t in enumerate(turns, 1):
        if not isinstance(t, dict):
            raise RecordError(f"meta.turns[{i}] is {type(t).__name__}, not an object")
        if not isinstance(t.get("task"), str) or not t["task"]:
            raise RecordError(f"meta.turns[{i}] has no `task` (the task its verifier is)")
        if "reference" not in t:
            raise RecordError(f"meta.turns[{i}] ({t['task']}) has no `reference`")
        if t.get("lang") not in (None, *LANGS):
            raise RecordError(f"meta.turns[{i}] has unknown lang {t['lang']!r}")
        if not isinstance(t.get("meta", {}), dict):
            raise RecordError(f"meta.turns[{i}].meta is not an object")
    return turns


# ---- JSONL i/o ----------------------------------------------------------------------------------------

# A line longer than this is rejected without being held in memory (a record this size cannot be trained
# on; a 10 MB record still passes). Module-level so a caller can raise it.
MAX_LINE_BYTES = 64 << 20


class NotRegularFile(OSError):
    """A path that is a FIFO, socket, device or folder: opening it could block or read forever."""


def open_regular(path: str | Path):
    """Open a regular file for binary reading without ever blocking: a FIFO is refused, not waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                    else "a folder" if stat.S_ISDIR(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "not a regular file")
            raise NotRegularFile(errno.EINVAL, f"{kind}, not a regular file", str(path))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


# A line ends at \n, \r\n or a lone \r (files saved with old Mac line endings): JSON never holds a raw CR
# inside a string, so a CR always ends a line, and each record keeps its own line number. These are exactly
# the line ends of `bytes.splitlines`.
_CHUNK = 1 << 20


def _eol(part) -> int:
    return 2 if part.endswith(b"\r\n") else 1 if part.endswith((b"\n", b"\r")) else 0


def _lines(f, limit: int) -> Iterator[tuple[bytes | None, int]]:
    """(line, size) for each line of a binary file; a line over `limit` bytes is skipped in chunks and
    comes back as (None, size), so memory stays bounded whatever the file holds. Hand-written because
    binary files have no universal-newline mode, and decoding first would lose the per-line UTF-8 check."""
    buf = bytearray()
    skipped = None  # while an over-long line is being skipped: how many of its bytes have gone by
    while True:
        chunk = f.read(_CHUNK)
        held_cr = buf.endswith(b"\r")  # a line end now, whatever the chunk starts with
        buf += chunk
        if held_cr or not chunk or b"\n" in chunk or b"\r" in chunk:  # else no line ends here: only its length matters
            parts = bytes(buf).splitlines(keepends=True)
            last = parts[-1] if parts else b""
            # the last part waits for the next chunk when it has no line end yet, or ends in a CR that a LF
            # at the start of the next chunk would complete
            hold = bool(chunk) and bool(parts) and (not _eol(last) or last.endswith(b"\r"))
            for part in parts[:-1] if hold else parts:
                if skipped is not None:
                    yield None, skipped + len(part)
                    skipped = None
                else:
                    size = len(part)
                    yield (part, size) if size <= limit or size - _eol(part) <= limit else (None, size)
            buf = bytearray(last) if hold else bytearray()
        if not chunk:
            if skipped is not None:
                yield None, skipped
            return
        keep = 1 if buf.endswith(b"\r") else 0
        if skipped is not None or len(buf) - keep > limit:
            skipped = (skipped or 0) + len(buf) - keep
            del buf[:len(buf) - keep]


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is too large for a float (JSON output would need Infinity)")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def loads_strict(text: str | bytes) -> Any:
    """`json.loads` that refuses what strict JSON has no form for: NaN, Infinity, and numbers that overflow a
    float (1e999 would be written back as Infinity). Raises ValueError (JSONDecodeError for a syntax error;
    also an integer over Python's digit limit for int conversion)."""
    return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)


def iter_jsonl(path: str | Path, *, max_line_bytes: int | None = None) -> Iterator[tuple[int, Any, str | None]]:
    """Yield (line number, parsed object or None, error or None) for each non-blank line.

    Never raises on a bad line: invalid UTF-8, malformed JSON, NaN/Infinity, a number too large to read,
    nesting too deep for the parser and lines longer than `max_line_bytes` come back as errors so the
    caller can reject that line and go on. A UTF-8 byte-order mark on the first line is dropped. Opening
    raises OSError (NotRegularFile for a FIFO).
    """
    limit = max_line_bytes or MAX_LINE_BYTES
    with open_regular(path) as f:
        for lineno, (raw, size) in enumerate(_lines(f, limit), 1):
            if raw is None:
                yield lineno, f"<line of {size:,} bytes not kept>", f"line too long ({size:,} bytes; the limit is {limit:,})"
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield lineno, raw.decode("utf-8", "replace").rstrip("\r\n"), f"invalid UTF-8 at byte {e.start}"
                continue
            try:
                yield lineno, loads_strict(text), None
            except json.JSONDecodeError as e:
                yield lineno, text.rstrip("\r\n"), f"malformed JSON: {e.msg} at column {e.colno}"
            except ValueError as e:  # NaN, Infinity, 1e999, an integer of more digits than Python converts
                yield lineno, text.rstrip("\r\n")[:2000], f"unreadable JSON: {str(e).split(';')[0][:160]}"
            except RecursionError:
                yield lineno, text.rstrip("\r\n")[:2000], "JSON nested too deeply to read"


def read_records(path: str | Path, *, require: tuple[str, ...] = (), turns: bool = False) -> list[dict]:
    """Read a file already in the record schema; a bad line is an error naming file and line.

    `require` names extra string fields every record must carry (e.g. "prediction" for scoring); `turns`
    checks each multi-turn record's `meta.turns` (`turn_specs`). A file that belongs to an unfinished
    output (see `check_complete`) is refused.
    """
    check_complete(path)
    out = []
    for lineno, obj, err in iter_jsonl(path):
        if err:
            raise RecordError(f"{path}:{lineno}: {err}")
        if not isinstance(obj, dict) or "messages" not in obj:
            raise RecordError(f"{path}:{lineno}: not an mtsft record (no 'messages'); import it with `mtsft data import`")
        for key in require:
            if not isinstance(obj.get(key), str):
                raise RecordError(f"{path}:{lineno}: no string `{key}` field")
        if turns:
            try:
                turn_specs(obj)
            except RecordError as e:
                raise RecordError(f"{path}:{lineno}: {e}") from None
        out.append(obj)
    return out


# ---- writing: never half-written --------------------------------------------------------------------
# The writers live in mtsft.outputs, the one owner of the output rule (atomic writes, never over an input
# or a special file, only into folders mtsft wrote); re-exported so `from mtsft.records import ...` works.
# A stage's outputs end with a manifest (the completion marker): written last, removed first when a rerun
# starts, so outputs without one are unfinished or stale and no stage reads them.


# ---- completion markers -------------------------------------------------------------------------------

MANIFEST = "manifest.json"                     # a curated folder's marker
FOLDER_OUTPUTS = ("kept.jsonl", "rejected.jsonl", "review.jsonl")


class IncompleteOutput(ValueError):
    """Outputs whose stage did not finish (killed, failed, or rerun over): refused by every reader."""


def sidecar(out: Path, suffix: str) -> Path:
    """data/x.jsonl -> data/x.rejected.jsonl (the import's sidecars; OUT.summary.json is its marker)."""
    out = Path(out)
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.{suffix}")


def check_complete(path: str | Path) -> None:
    """Raise IncompleteOutput when `path` is an output of a stage that did not finish.

    - a curated folder (or a kept/rejected/review.jsonl in it) needs its manifest.json, and the manifest's
      sizes must match the files;
    - an imported file whose OUT.rejected.jsonl sidecar exists needs OUT.summary.json.
    A plain file of the user's, with neither, is taken as it is.
    """
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    if p.is_dir() or p.name in FOLDER_OUTPUTS:
        manifest = folder / MANIFEST
        if not manifest.is_file():
            raise IncompleteOutput(f"{p}: {folder} has no {MANIFEST}: its curation did not finish (killed, failed "
                                   "or rerun); run `mtsft data curate` into it again")
        try:
            outputs = json.loads(manifest.read_text(encoding="utf-8")).get("outputs") or {}
        except (ValueError, AttributeError):
            raise IncompleteOutput(f"{manifest}: unreadable manifest; run `mtsft data curate` again") from None
        for name, entry in outputs.items():
            f = folder / name
            size = entry.get("bytes") if isinstance(entry, dict) else None
            if size is not None and (not f.is_file() or f.stat().st_size != size):
                raise IncompleteOutput(f"{f}: does not match {manifest} (changed or partly written since); "
                                       "run `mtsft data curate` again")
        return
    if sidecar(p, "rejected.jsonl").exists() and not sidecar(p, "summary.json").exists():
        raise IncompleteOutput(f"{p}: its import did not finish ({sidecar(p, 'summary.json').name} is missing); "
                               "run `mtsft data import` again")
