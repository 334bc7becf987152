"""Importers: Alpaca, ShareGPT, OpenAI messages, prompt/completion, column mappings -> the record schema.

Containers (JSONL, JSON arrays, Parquet, CSV, Hugging Face datasets) are read by pandas/pyarrow/datasets;
what is written here by hand is only the mapping of each community format onto `messages`, because no
library defines those conversions with per-record accounting.

Accounting: every input row ends up either kept (a record) or rejected (`{"source", "reason", "raw"}`);
an unreadable file counts as one rejected input. `ImportResult.check()` asserts inputs == kept + rejected.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtsft.records import LANGS, RecordError, make_record

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
        if speaker not in SHAREGPT_ROLES:
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
        return from_openai({"messages": prompt + (obj.get("completion") or [])})
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
    if label is not None and label not in known_tasks:
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

Row = tuple[str, Any, str | None]  # (source, object, error)


def _iter_json_file(path: Path) -> Iterator[Row]:
    from mtsft.records import iter_jsonl

    head = path.read_bytes()[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if path.suffix.lower() == ".json" and head.startswith(b"["):  # a JSON array (Alpaca's own .json files)
        try:
            items = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            yield str(path), None, f"unreadable JSON array: {e.__class__.__name__}: {str(e)[:120]}"
            return
        for i, obj in enumerate(items):
            yield f"{path}#{i}", obj, None
        return
    for lineno, obj, err in iter_jsonl(path):
        yield f"{path}:{lineno}", obj, err


def _iter_table(path: Path, reader: Callable) -> Iterator[Row]:
    try:
        frame = reader(path)
    except Exception as e:  # pandas/pyarrow raise many types for a corrupt file
        yield str(path), None, f"unreadable {path.suffix[1:]} file: {e.__class__.__name__}: {str(e)[:120]}"
        return
    frame = frame.astype(object).where(frame.notna(), None)
    for i, obj in enumerate(frame.to_dict(orient="records")):
        yield f"{path}#{i}", obj, None


def _iter_hf(spec: str, dataset) -> Iterator[Row]:
    for i, obj in enumerate(dataset):
        yield f"{spec}#{i}", obj, None


def iter_rows(path: str) -> Iterator[Row]:
    """Rows of any supported container; `hf:NAME[:SPLIT]` loads a hub dataset (needs the internet)."""
    import pandas as pd

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
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if p.is_dir():
        if not ((p / "dataset_info.json").exists() or (p / "state.json").exists() or (p / "dataset_dict.json").exists()):
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
        yield from _iter_table(p, pd.read_parquet)
    elif suffix in (".csv", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        yield from _iter_table(p, lambda f: pd.read_csv(f, sep=sep, dtype=str, keep_default_na=False,
                                                       encoding="utf-8-sig"))
    else:
        raise ImportFormatError(f"{path}: unsupported file type '{suffix or '(none)'}' "
                                "(expected .jsonl, .json, .parquet, .csv, .tsv or a save_to_disk folder)")


def expand_inputs(paths: list[str]) -> list[str]:
    """Folders that are not saved datasets expand to the data files inside them (sorted)."""
    out = []
    for path in paths:
        p = Path(path)
        if p.is_dir() and not any((p / n).exists() for n in ("dataset_info.json", "state.json", "dataset_dict.json")):
            out += sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in DATA_SUFFIXES | {".tsv"})
        else:
            out.append(path)
    return out


# ---- the stage function ------------------------------------------------------------------------------

def _raw(obj: Any) -> str:
    return obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, default=str)


def import_files(paths: list[str], *, fmt: str | None = None, mapping: list[str] | None = None,
                 task: str | None = None, lang: str | None = None, progress: bool = False) -> ImportResult:
    """Import every file; never raises on a bad record, only on a missing file or a bad option."""
    if fmt is not None and fmt not in FORMATS:
        raise ImportFormatError(f"unknown --format {fmt!r} (expected one of {', '.join(FORMATS)})")
    columns = parse_mapping(mapping)
    if fmt == "fields" and not columns:
        raise ImportFormatError("--format fields needs --map prompt=... --map response=...")
    known = known_tasks()
    if task is not None and known and task not in known:
        raise ImportFormatError(f"--task {task!r} is not a registered task ({', '.join(sorted(known))})")
    files = expand_inputs(paths)
    missing = [f for f in files if not f.startswith("hf:") and not Path(f).exists()]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: no such file or directory")
    result = ImportResult()
    for path in _progress(files, progress):
        result.files.append(_import_one(path, fmt or ("fields" if columns else None), columns, known, task, lang, result))
    result.check()
    return result


def _progress(files: list[str], enabled: bool):
    if not enabled or len(files) < 2:
        return files
    from tqdm import tqdm

    return tqdm(files, desc="importing", unit="file")


def _import_one(path, fmt, columns, known, task, lang, result: ImportResult) -> FileSummary:
    summary = FileSummary(path=path, format=fmt or "?")
    for source, obj, err in iter_rows(path):
        summary.inputs += 1
        if err is None and summary.format == "?":
            summary.format = sniff_format(obj) or "?"
        try:
            if err:
                raise RecordError(err)
            if summary.format == "?":
                raise RecordError("cannot tell the format from this record's fields (use --format or --map)")
            result.kept.append(convert(obj, summary.format, source, columns, known, task, lang))
            summary.kept += 1
        except RecordError as e:
            reason = str(e)
            result.rejected.append({"source": source, "reason": reason, "raw": _raw(obj)[:20000]})
            summary.rejected += 1
            summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
    return summary


def import_to(paths: list[str], out: str | Path, **kwargs) -> ImportResult:
    """`mtsft data import`: write OUT, OUT.rejected.jsonl and OUT.summary.json next to it."""
    from mtsft.records import write_jsonl

    result = import_files(paths, **kwargs)
    out = Path(out)
    write_jsonl(out, result.kept)
    write_jsonl(sidecar(out, "rejected.jsonl"), result.rejected)
    sidecar(out, "summary.json").write_text(json.dumps(result.summary(), ensure_ascii=False, indent=2), encoding="utf-8")
    return result


def sidecar(out: Path, suffix: str) -> Path:
    """data/x.jsonl -> data/x.rejected.jsonl"""
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.{suffix}")
