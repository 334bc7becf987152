"""Reading curation and analysis inputs: mtsft record files as they are, anything else through the importers.

Shared by `curate`, `classify` and `analyze`, which all start from the same files. An input may also be a
curated folder (its kept.jsonl is read); a folder or file whose stage did not finish (no manifest) is
refused, and a line that cannot be read or written back is rejected on its own, never the whole input.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mtsft.data.common import reject
from mtsft.importers import convert, display, encode_record, known_tasks, sniff_format
from mtsft.records import RecordError, check_complete, iter_jsonl


def _resolve(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file")
    check_complete(p)  # a curated folder without its manifest, a half-finished import: refused
    if p.is_dir():
        kept = p / "kept.jsonl"
        if not kept.is_file():
            raise FileNotFoundError(f"{path}: a folder without kept.jsonl (curate reads files or curated folders)")
        return kept
    return p


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _bad(path: Path, lineno: int, source: str, raw, reason: str) -> dict:
    return reject({"id": f"{display(path.name)}:{lineno}", "source": source, "raw": str(raw)[:2000], "meta": {}},
                  "read", "unreadable", detail=reason)


def read_inputs(paths: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """(records, unreadable lines as rejected records, per-file summaries). mtsft records are taken as
    they are (the quality round judges them); other formats go through `mtsft.importers`."""
    records, bad, files = [], [], []
    known = known_tasks()
    for given in paths:
        path = _resolve(given)
        n = 0
        try:
            digest = _sha256(path)
            rows = iter_jsonl(path)
            for lineno, obj, err in rows:
                n += 1
                source = f"{display(path)}:{lineno}"
                try:
                    if err:
                        raise RecordError(err)
                    if isinstance(obj, dict) and "messages" in obj and ("task" in obj or "id" in obj):
                        record = {**obj, "source": obj.get("source") or source}
                    else:
                        fmt = sniff_format(obj)
                        if fmt is None:
                            raise RecordError("not an mtsft record and no known format (import it with `mtsft data import --map`)")
                        record = convert(obj, fmt, source, {}, known)
                    encode_record(record)  # text UTF-8 cannot hold, nesting the writer cannot write: rejected here
                    records.append(record)
                except RecordError as e:
                    bad.append(_bad(path, lineno, source, obj, str(e)))
                except RecursionError:
                    bad.append(_bad(path, lineno, source, "", "nested too deeply to read"))
                except UnicodeEncodeError:
                    bad.append(_bad(path, lineno, source, "", "invalid Unicode (lone surrogate)"))
        except OSError as e:  # a FIFO, a permission error: one rejected input, the other files go on
            n += 1
            bad.append(_bad(path, 0, display(path), "", f"unreadable file: {e.strerror or e.__class__.__name__}"))
            digest = None
        files.append({"path": str(given), "lines": n, "sha256": digest})
    return records, bad, files


def rejected_lines(bad: list[dict]) -> list[str]:
    """"file:line: reason" for each input line `read_inputs` rejected: commands that do not write them out
    (classify, analyze) print them, so no line is dropped unsaid."""
    return [f"{b['source']}: {b['meta']['rejected']['detail']}" for b in bad]
