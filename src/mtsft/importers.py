"""Importers: Alpaca, ShareGPT, OpenAI messages, prompt/completion, column mappings -> the record schema.

Containers (JSONL, JSON arrays, Parquet, CSV, Hugging Face datasets) are read by pandas/pyarrow/datasets;
what is written here by hand is only the mapping of each community format onto `messages`, because no
library defines those conversions with per-record accounting.

Accounting: every input row ends up either kept (a record) or rejected (`{"source", "reason", "raw"}`);
an unreadable file counts as one rejected input. `ImportResult.check()` asserts inputs == kept + rejected.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import reprlib
import stat
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtsft.records import LANGS, RecordError, json_line, make_record, sidecar

FORMATS = ("alpaca", "sharegpt", "openai", "prompt_completion", "fields")
MAP_KEYS = ("prompt", "response", "system", "task", "lang", "reference", "id")  # and reference.FIELD
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "model": "assistant",
                  "system": "system"}
DATA_SUFFIXES = {".jsonl", ".json", ".parquet", ".csv"}


class ImportFormatError(ValueError):
    """A file whose format cannot be read or detected (one-line message naming the file)."""


@dataclass
class FileSummary:
    path: str
    format: str
    inputs: int = 0
    kept: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class Streamed(list):
    """Stands in for rows an import streamed to disk: len() is how many, the rows themselves are not held."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def append(self, _row) -> None:
        self.n += 1


@dataclass
class ImportResult:
    kept: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)

    @property
    def inputs(self) -> int:
        return sum(f.inputs for f in self.files)

    def check(self) -> None:
        assert self.inputs == len(self.kept) + len(self.rejected), "import lost records"

    def summary(self) -> dict:
        return {"inputs": self.inputs, "kept": len(self.kept), "rejected": len(self.rejected),
                "files": [vars(f) for f in self.files]}


# ---- per-format conversion: object -> (messages, extra fields) -------------------------------------

def _text(obj: dict, key: str, required: bool = True) -> str:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise RecordError(f"missing or empty field '{key}'")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"field '{key}' is {type(value).__name__}, not a string")
    return value


def from_alpaca(obj: dict) -> list[dict]:
    instruction, extra = _text(obj, "instruction"), _text(obj, "input", required=False)
    messages = [{"role": "system", "content": _text(obj, "system")}] if obj.get("system") else []
    history = obj.get("history") or []
    if not isinstance(history, list):
        raise RecordError("field 'history' is not a list of [user, assistant] pairs")
    for turn in history:
        if not (isinstance(turn, (list, tuple)) and len(turn) == 2):
            raise RecordError("field 'history' is not a list of [user, assistant] pairs")
        messages += [{"role": "user", "content": turn[0]}, {"role": "assistant", "content": turn[1]}]
    prompt = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    return messages + [{"role": "user", "content": prompt}, {"role": "assistant", "content": _text(obj, "output")}]


def from_sharegpt(obj: dict) -> list[dict]:
    turns = obj.get("conversations")
    if not isinstance(turns, list):
        raise RecordError("field 'conversations' is missing or not a list")
    messages = [{"role": "system", "content": _text(obj, "system")}] if obj.get("system") else []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise RecordError(f"conversation turn {i} is not an object")
        speaker = turn.get("from")
        if not isinstance(speaker, str) or speaker not in SHAREGPT_ROLES:
            raise RecordError(f"conversation turn {i} has unknown role {speaker!r}")
        messages.append({"role": SHAREGPT_ROLES[speaker], "content": turn.get("value")})
    return messages


def _content_text(content: Any, i: int) -> Any:
    """OpenAI content is a string or a list of parts; only text parts can be trained on."""
    if not isinstance(content, list):
        return content
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise RecordError(f"message {i} has a non-text content part ({kind})")
    return "".join(texts)


def from_openai(obj: dict) -> list[dict]:
    messages = obj.get("messages")
    if not isinstance(messages, list):
        raise RecordError("field 'messages' is missing or not a list")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise RecordError(f"message {i} is not an object")
        out.append({"role": m.get("role"), "content": _content_text(m.get("content"), i)})
    return out


def from_prompt_completion(obj: dict) -> list[dict]:
    messages = [{"role": "system", "content": _text(obj, "system")}] if obj.get("system") else []
    prompt = obj.get("prompt")
    if isinstance(prompt, list):  # TRL's conversational prompt/completion
        completion = obj.get("completion") or []
        if not isinstance(completion, list):
            raise RecordError("field 'completion' is not a list of messages (the prompt is)")
        return from_openai({"messages": prompt + completion})
    return messages + [{"role": "user", "content": _text(obj, "prompt")},
                       {"role": "assistant", "content": _text(obj, "completion")}]


CONVERTERS: dict[str, Callable[[dict], list[dict]]] = {
    "alpaca": from_alpaca, "sharegpt": from_sharegpt, "openai": from_openai,
    "prompt_completion": from_prompt_completion,
}


def sniff_format(obj: Any) -> str | None:
    """Which community format an object is in, from its keys (None when none fits)."""
    if not isinstance(obj, dict):
        return None
    keys = set(obj)
    if "conversations" in keys:
        return "sharegpt"
    if "messages" in keys:
        return "openai"
    if "instruction" in keys:
        return "alpaca"
    if {"prompt", "completion"} <= keys:
        return "prompt_completion"
    return None


# ---- column mapping ("fields" format) --------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """['prompt=Classify: {review}', 'response=label'] -> {'prompt': ..., 'response': ...}."""
    mapping = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or (key not in MAP_KEYS and not key.startswith("reference.")):
            raise ImportFormatError(f"--map {item!r}: expected KEY=COLUMN or KEY=TEMPLATE with KEY one of "
                                    f"{', '.join(MAP_KEYS)} or reference.FIELD")
        mapping[key] = value
    if mapping and not {"prompt", "response"} <= set(mapping):
        raise ImportFormatError("--map needs at least prompt=... and response=...")
    return mapping


class _JsonFormatter(string.Formatter):
    """str.format with {column} and {column[0]} lookups; non-string values are written as JSON."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return _scalar(value) if not format_spec else format(value, format_spec)


def _fill(spec: str, obj: dict) -> Any:
    """A bare column name returns that column's value; a template fills {column} placeholders;
    'text' in single quotes is a literal even where a column has that name."""
    if len(spec) >= 2 and spec[0] == spec[-1] == "'":
        return spec[1:-1]
    if spec in obj:
        return obj[spec]
    if not _PLACEHOLDER.search(spec):
        return spec  # a constant, e.g. task=classification
    try:
        return _JsonFormatter().vformat(spec, (), obj)
    except KeyError as e:
        raise RecordError(f"missing field {e}") from None
    except (IndexError, TypeError, ValueError) as e:
        raise RecordError(f"cannot fill template {spec!r}: {e}") from None


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def from_fields(obj: dict, mapping: dict[str, str]) -> tuple[list[dict], dict]:
    messages = []
    if "system" in mapping:
        messages.append({"role": "system", "content": _fill(mapping["system"], obj)})
    response = _fill(mapping["response"], obj)
    messages += [{"role": "user", "content": _fill(mapping["prompt"], obj)},
                 {"role": "assistant", "content": response if isinstance(response, str) else _scalar(response)}]
    extra = {k: _fill(mapping[k], obj) for k in ("task", "lang", "reference", "id") if k in mapping}
    fields = {k.split(".", 1)[1]: _fill(v, obj) for k, v in mapping.items() if k.startswith("reference.")}
    if fields:  # reference.answers=answers -> {"answers": [...]}: the shape a task's verifier reads
        extra["reference"] = {**(extra.get("reference") or {}), **fields}
    return messages, extra


# ---- one object -> record ---------------------------------------------------------------------------

def known_tasks() -> set[str]:
    """Task names a label may carry to be trusted (empty when the registry fails to load)."""
    try:
        from mtsft import tasks
        return set(tasks.names())
    except Exception:  # the registry failing to load must not stop an import; labels become untrusted
        return set()


def convert(obj: Any, fmt: str, source: str, mapping: dict[str, str], known_tasks: set[str],
            task: str | None = None, lang: str | None = None) -> dict:
    """One input object -> one record, or RecordError with the reason."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    if fmt == "fields":
        messages, extra = from_fields(obj, mapping)
    else:
        messages, extra = CONVERTERS[fmt](obj), {}
        extra.update({k: obj[k] for k in ("task", "lang", "reference", "id") if obj.get(k) is not None})
    meta = dict(obj["meta"]) if isinstance(obj.get("meta"), dict) else {}
    label = task or extra.get("task")
    if label is not None and (not isinstance(label, str) or label not in known_tasks):
        meta["original_task"], label = label, None  # not a registered task: classification decides
    record_lang = lang or extra.get("lang")
    if record_lang not in LANGS:
        if record_lang is not None:
            meta["original_lang"] = record_lang
        record_lang = None
    if obj.get("source") and "source" not in meta:
        meta["origin"] = obj["source"]
    return make_record(messages, source=source, task=label, lang=record_lang, reference=extra.get("reference"),
                       meta=meta, id=extra.get("id"))


# ---- containers: file -> (source, object or error, raw) ---------------------------------------------
# Every reader streams (bounded memory whatever the file size), never blocks on a FIFO, and turns what it
# cannot read into rejected rows: one per bad line where lines exist, one for the rest of a file otherwise.

Row = tuple[str, Any, str | None]  # (source, object, error)
SNIFF_BYTES = 4096
MAX_JSON_ARRAY_BYTES = 256 << 20   # a JSON array is parsed whole; larger ones must come as JSONL
TABLE_BATCH_ROWS = 4096


def display(path: Any) -> str:
    """A path as text that UTF-8 can hold (undecodable bytes of a file name shown as escapes)."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _oserror(e: OSError) -> str:
    return f"{e.strerror or e.__class__.__name__}" + (f" [errno {e.errno}]" if e.errno else "")


def _iter_json_file(path: Path) -> Iterator[Row]:
    from mtsft.records import iter_jsonl, open_regular

    name = display(path)
    with open_regular(path) as f:
        head = f.read(SNIFF_BYTES).lstrip(b"\xef\xbb\xbf").lstrip()
        size = os.fstat(f.fileno()).st_size
        if path.suffix.lower() == ".json" and head.startswith(b"["):  # a JSON array (Alpaca's own .json files)
            if size > MAX_JSON_ARRAY_BYTES:
                yield name, None, (f"JSON array of {size:,} bytes is over the {MAX_JSON_ARRAY_BYTES:,}-byte limit "
                                   "for arrays; convert it to JSONL (one object a line), which streams")
                return
            f.seek(0)
            try:
                items = json.loads(f.read().decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError) as e:  # ValueError: also an integer over Python's digit limit
                yield name, None, f"unreadable JSON array: {e.__class__.__name__}: {str(e).split(';')[0][:120]}"
                return
            except RecursionError:
                yield name, None, "unreadable JSON array: nested too deeply to read"
                return
            if not isinstance(items, list):
                yield name, None, f"unreadable JSON array: top level is {type(items).__name__}"
                return
            for i, obj in enumerate(items):
                yield f"{name}#{i}", obj, None
            return
    for lineno, obj, err in iter_jsonl(path):
        yield f"{name}:{lineno}", obj, err


def _plain(value: Any, depth: int = 0) -> Any:
    """Table cells as JSON values: numpy arrays and scalars, timestamps and bytes made plain."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if depth > 100:
        raise RecordError("value nested too deeply")
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [_plain(v, depth + 1) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            return _plain(value.item(), depth + 1)
        except (TypeError, ValueError):
            pass
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _batch_rows(batch) -> Iterator[tuple[Any, str | None]]:
    """(row, None) for each row of an Arrow batch, or (None, reason) for a row with a cell Python cannot hold
    (a timestamp past year 9999, a decimal out of range): that row alone is rejected, not the file."""
    try:
        rows = batch.to_pylist()  # lists and structs come back as lists and dicts, not numpy
    except Exception:  # noqa: BLE001  (arrow raises many types for one bad cell; find it row by row below)
        rows = None
    if rows is not None:
        for obj in rows:
            yield obj, None
        return
    for j in range(batch.num_rows):
        row = {}
        for column, values in zip(batch.schema.names, batch.columns):
            try:
                row[column] = values[j].as_py()
            except Exception as e:  # noqa: BLE001  (the same conversion, one cell at a time)
                row = None
                yield None, f"unreadable cell in column {column!r}: {e.__class__.__name__}: {str(e)[:120]}"
                break
        if row is not None:
            yield row, None


def _iter_parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    from mtsft.records import open_regular

    name = display(path)
    i = 0
    try:
        with open_regular(path) as f:
            pf = pq.ParquetFile(f)
            for batch in pf.iter_batches(batch_size=TABLE_BATCH_ROWS):
                for obj, err in _batch_rows(batch):
                    yield f"{name}#{i}", obj, err
                    i += 1
    except OSError:
        raise
    except Exception as e:  # pyarrow raises many types for a corrupt file
        where = f" from row {i}" if i else ""
        yield f"{name}#{i}" if i else name, None, f"unreadable parquet file{where}: {e.__class__.__name__}: {str(e)[:120]}"


def _csv_rows(lines: Iterator[tuple[int, str]], sep: str) -> Iterator[tuple[int, list[str] | str, str | None]]:
    """(line the row starts on, cells (the row's text when it cannot be read), error) for each CSV row of (line number, text) pairs.

    A quote never closed makes the csv module read every later line into one field (one input for the rest
    of the file): such a row, found when a many-line row is not complete CSV, rejects only the line it opens
    on, and the lines after it are read again as rows of their own."""
    while lines is not None:
        rest: list[tuple[int, str]] = []
        yield from _csv_pass(lines, sep, rest)
        lines = iter(rest) if rest else None


def _csv_pass(lines: Iterator[tuple[int, str]], sep: str, rest: list) -> Iterator[tuple[int, list[str] | str, str | None]]:
    """`_csv_rows` up to an unterminated quote; the lines after the one it opens on are left in `rest`."""
    import csv

    taken: list[tuple[int, str]] = []  # the lines of the row being read (csv reads no further than its end)

    def feed():
        for item in lines:
            taken.append(item)
            yield item[1]

    reader = csv.reader(feed(), delimiter=sep)
    while True:
        taken.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            line = taken[0][0] if taken else 0
            yield line, "".join(t for _, t in taken), f"malformed {_csv_kind(sep)} row (line {line}): {str(e)[:120]}"
            continue
        if len(taken) > 1 and _quote_left_open("".join(text for _, text in taken), sep):
            yield taken[0][0], taken[0][1], f"unterminated quote in a {_csv_kind(sep)} row (line {taken[0][0]})"
            rest.extend(taken[1:])
            return
        yield taken[0][0], cells, None


def _csv_kind(sep: str) -> str:
    return "tsv" if sep == "\t" else "csv"


def _quote_left_open(text: str, sep: str) -> bool:
    """Whether `text` (one row as the lenient reader took it) ends inside a quoted field."""
    import csv
    import io

    try:
        list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))
    except csv.Error as e:
        return "unexpected end of data" in str(e)  # the strict reader's words for an open quote at the end
    return False


def _iter_csv(path: Path, sep: str) -> Iterator[Row]:
    """CSV/TSV rows as {column: text} (every value a string, empty cells ""), one row at a time; a
    malformed row is rejected on its own and reading goes on with the next. Lines end at \n, \r\n or a
    lone \r (the text layer's universal newlines, kept untranslated for the csv module)."""
    import csv
    import io

    from mtsft.records import MAX_LINE_BYTES, open_regular

    name = display(path)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    with open_regular(path) as raw:
        # undecodable bytes become lone surrogates: the row that holds them is rejected, not the file
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        header = None
        i = 0
        for lineno, cells, err in _csv_rows(enumerate(text, 1), sep):
            if err:
                yield f"{name}#{i}", cells, err
                i += 1
                continue
            if header is None:
                header = cells
                if len(set(header)) != len(header):
                    yield name, None, "unreadable header: repeated column names"
                    return
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                yield f"{name}#{i}", sep.join(cells), f"row has {len(cells)} fields, the header {len(header)} (line {lineno})"
            else:
                yield f"{name}#{i}", dict(zip(header, cells)), None
            i += 1


def _iter_hf(spec: str, dataset) -> Iterator[Row]:
    for i, obj in enumerate(dataset):
        yield f"{spec}#{i}", obj, None


def _is_saved_dataset(p: Path) -> bool:
    return any((p / n).exists() for n in ("dataset_info.json", "state.json", "dataset_dict.json"))


def iter_rows(path: str) -> Iterator[Row]:
    """Rows of any supported container; `hf:NAME[:SPLIT]` loads a hub dataset (needs the internet).
    Raises OSError when the file cannot be opened (the caller rejects it as one input)."""
    if path.startswith("hf:"):
        import datasets

        name, _, split = path[3:].partition(":")
        try:
            ds = datasets.load_dataset(name, split=split or "train")
        except Exception as e:
            raise ImportFormatError(f"{path}: cannot load the dataset ({e.__class__.__name__}: "
                                    f"{str(e).splitlines()[0][:160]})") from None
        yield from _iter_hf(path, ds)
        return
    p = Path(path)
    if not os.path.lexists(p):
        raise FileNotFoundError(f"{path}: no such file or directory")
    if p.is_dir():
        if not _is_saved_dataset(p):
            raise ImportFormatError(f"{path}: a folder that is not a Hugging Face dataset saved with save_to_disk")
        import datasets

        ds = datasets.load_from_disk(str(p))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds["train"] if "train" in ds else ds[next(iter(ds))]
        yield from _iter_hf(path, ds)
        return
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".json"):
        yield from _iter_json_file(p)
    elif suffix == ".parquet":
        yield from _iter_parquet(p)
    elif suffix in (".csv", ".tsv"):
        yield from _iter_csv(p, "\t" if suffix == ".tsv" else ",")
    else:
        raise ImportFormatError(f"{path}: unsupported file type '{suffix or '(none)'}' "
                                "(expected .jsonl, .json, .parquet, .csv, .tsv or a save_to_disk folder)")


def _walk(root: Path, seen: set, out: list[tuple[str, str | None]]) -> None:
    """Data files under `root` (sorted), following symlinked folders once; a loop, a dangling link or a
    data-named FIFO is listed with its problem instead of being skipped in silence."""
    try:
        st = root.stat()
    except OSError as e:
        out.append((str(root), f"unreadable folder: {_oserror(e)}"))
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        out.append((str(root), "symlink loop: this folder is already being read"))
        return
    seen.add(key)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as e:
        out.append((str(root), f"unreadable folder: {_oserror(e)}"))
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()  # follows symlinks; False for a loop or a dangling link
        except OSError:
            is_dir = False
        if is_dir:
            if not _is_saved_dataset(path):
                _walk(path, seen, out)
            else:
                out.append((str(path), None))
            continue
        if path.suffix.lower() not in DATA_SUFFIXES | {".tsv"}:
            continue
        out.append((str(path), _problem(path)))
    seen.discard(key)


def _problem(path: Path) -> str | None:
    """Why a listed data file cannot be read as a file (None when it can be opened normally)."""
    try:
        st = path.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop"
        if path.is_symlink():
            return f"dangling symlink to {display(os.readlink(path))}"
        return f"unreadable: {_oserror(e)}"
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        return "not a regular file (FIFO, socket or device): not read"
    return None


def _expand(paths: list[str]) -> list[tuple[str, str | None]]:
    """(path, why it cannot be read or None) per input; folders that are not saved datasets expand to the
    data files inside them (sorted)."""
    out: list[tuple[str, str | None]] = []
    for path in paths:
        p = Path(path)
        if not path.startswith("hf:") and p.is_dir() and not _is_saved_dataset(p):
            _walk(p, set(), out)
        elif path.startswith("hf:") or not os.path.lexists(p):
            out.append((path, None))
        else:
            out.append((path, _problem(p)))
    return out


# ---- the stage function ------------------------------------------------------------------------------

def _raw(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    try:
        return json.dumps(obj, ensure_ascii=False, default=str)
    except (RecursionError, ValueError, TypeError):
        return reprlib.repr(obj)


def _clean(text: str) -> str:
    """Text safe to write as UTF-8 (lone surrogates escaped)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def encode_record(record: dict) -> bytes:
    """The record's JSONL line, or RecordError when it cannot be written as UTF-8 JSON (a lone surrogate,
    nesting deeper than the writer goes, a value JSON has no type for, NaN or Infinity: strict JSON has no
    form for them, and Python would write the non-JSON tokens NaN/Infinity that other readers refuse)."""
    try:
        text = json.dumps(record, ensure_ascii=False, allow_nan=False)
    except RecursionError:
        raise RecordError("nested too deeply to write") from None
    except ValueError as e:
        if _has_non_finite(record):
            raise RecordError("a number is NaN or infinite (from NaN, Infinity or a value like 1e999): "
                              "JSON has no form for it") from None
        raise RecordError(f"cannot be written as JSON: {str(e)[:120]}") from None
    except (TypeError, ValueError) as e:
        raise RecordError(f"cannot be written as JSON: {str(e)[:120]}") from None
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError as e:
        snippet = text[max(0, e.start - 30): e.start].encode("utf-8", "replace").decode("utf-8")
        raise RecordError(f"invalid Unicode (lone surrogate {text[e.start]!a}) after {snippet!r}") from None


def _has_non_finite(value: Any, depth: int = 0) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if depth > 200:
        return False
    if isinstance(value, dict):
        return any(_has_non_finite(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(v, depth + 1) for v in value)
    return False


@dataclass
class _Options:
    fmt: str | None
    columns: dict[str, str]
    known: set[str]
    task: str | None
    lang: str | None


def _options(fmt, mapping, task, lang) -> _Options:
    if fmt is not None and fmt not in FORMATS:
        raise ImportFormatError(f"unknown --format {fmt!r} (expected one of {', '.join(FORMATS)})")
    columns = parse_mapping(mapping)
    if fmt == "fields" and not columns:
        raise ImportFormatError("--format fields needs --map prompt=... --map response=...")
    known = known_tasks()
    if task is not None and known and task not in known:
        raise ImportFormatError(f"--task {task!r} is not a registered task ({', '.join(sorted(known))})")
    return _Options(fmt or ("fields" if columns else None), columns, known, task, lang)


def _files(paths: list[str]) -> list[tuple[str, str | None]]:
    files = _expand(paths)
    missing = [f for f, problem in files if problem is None and not f.startswith("hf:") and not os.path.lexists(f)]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: no such file or directory")
    return files


def _stream(files: list[tuple[str, str | None]], opts: _Options, summaries: list[FileSummary],
            progress: bool = False) -> Iterator[tuple[bool, dict, bytes | None]]:
    """(kept?, record or rejection, the record's encoded line) for every input row of every file."""
    for path, problem in _progress(files, progress):
        summary = FileSummary(path=display(path), format=opts.fmt or "?")
        summaries.append(summary)
        yield from _import_one(path, problem, opts, summary)


def import_files(paths: list[str], *, fmt: str | None = None, mapping: list[str] | None = None,
                 task: str | None = None, lang: str | None = None, progress: bool = False) -> ImportResult:
    """Import every file; never raises on a bad record or an unreadable file (each is rejected with its
    reason), only on a missing path or a bad option."""
    opts = _options(fmt, mapping, task, lang)
    result = ImportResult()
    for kept, row, _ in _stream(_files(paths), opts, result.files, progress):
        (result.kept if kept else result.rejected).append(row)
    result.check()
    return result


def _progress(files, enabled: bool):
    if not enabled or len(files) < 2:
        return files
    from tqdm import tqdm

    return tqdm(files, desc="importing", unit="file")


def _reject(summary: FileSummary, source: str, reason: str, obj: Any) -> dict:
    reason = _clean(reason)
    summary.rejected += 1
    summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
    return {"source": _clean(source), "reason": reason, "raw": _clean(_raw(obj)[:20000])}


def _import_one(path: str, problem: str | None, opts: _Options, summary: FileSummary) -> Iterator[tuple[bool, dict, bytes | None]]:
    if problem:
        summary.inputs += 1
        yield False, _reject(summary, display(path), problem, None), None
        return
    rows = iter_rows(path)
    source = display(path)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except OSError as e:  # cannot open or read it: one rejected input; the files beside it go on
            summary.inputs += 1
            where = "" if not summary.inputs - 1 else f" after {summary.inputs - 1} rows"
            yield False, _reject(summary, source, f"unreadable file{where}: {_oserror(e)}", None), None
            return
        except RecursionError:
            summary.inputs += 1
            yield False, _reject(summary, source, "unreadable file: nested too deeply to read", None), None
            return
        source, obj, err = row
        summary.inputs += 1
        try:
            if err:
                raise RecordError(err)
            if summary.format == "?":
                summary.format = sniff_format(obj) or "?"
            if summary.format == "?":
                raise RecordError("cannot tell the format from this record's fields (use --format or --map)")
            if isinstance(obj, dict) and path.lower().endswith(".parquet"):
                obj = _plain(obj)
            record = convert(obj, summary.format, _clean(source), opts.columns, opts.known, opts.task, opts.lang)
            line = encode_record(record)
        except RecordError as e:
            yield False, _reject(summary, source, str(e), obj), None
            continue
        except RecursionError:
            yield False, _reject(summary, source, "nested too deeply to read", obj), None
            continue
        except UnicodeEncodeError as e:  # content_id and the writer need text UTF-8 can hold
            bad = e.object[e.start: e.start + 1] if isinstance(e.object, str) else "?"
            yield False, _reject(summary, source, f"invalid Unicode (lone surrogate or undecodable byte {bad!a})", obj), None
            continue
        except Exception as e:  # a bug must not cost the user the rest of the import; the reason says so
            yield False, _reject(summary, source, f"internal error: {e.__class__.__name__}: {str(e)[:160]}", obj), None
            continue
        summary.kept += 1
        yield True, record, line


def import_to(paths: list[str], out: str | Path, *, fmt: str | None = None, mapping: list[str] | None = None,
              task: str | None = None, lang: str | None = None, progress: bool = False) -> ImportResult:
    """`mtsft data import`: write OUT, OUT.rejected.jsonl and OUT.summary.json next to it.

    Streams: records go to disk as they are converted (bounded memory, whatever the input size), so the
    returned result carries the counts and per-file summaries but not the records. Each file is written
    under a temporary name and renamed; OUT.summary.json, the completion marker, is removed first and
    written last, so an import that dies leaves outputs that no stage reads.
    """
    from mtsft.records import atomic_writer, clear_stale_tmp, write_json_atomic

    from mtsft.outputs import check_file

    out = Path(out)
    marker = sidecar(out, "summary.json")
    for path in (out, sidecar(out, "rejected.jsonl"), marker):  # before any work: never over an input
        check_file(path, paths)                                  # (or inside an input folder), a FIFO, a device
    opts = _options(fmt, mapping, task, lang)
    files = _files(paths)
    marker.unlink(missing_ok=True)
    clear_stale_tmp(out.parent, [out.name, sidecar(out, "rejected.jsonl").name, marker.name])
    result = ImportResult(kept=Streamed(), rejected=Streamed())
    with atomic_writer(out) as fk, atomic_writer(sidecar(out, "rejected.jsonl")) as fr:
        for ok, row, line in _stream(files, opts, result.files, progress):
            if ok:
                fk.write(line)
                result.kept.append(None)
            else:
                fr.write(json_line(row))
                result.rejected.append(None)
    result.check()
    write_json_atomic(marker, result.summary())
    return result
