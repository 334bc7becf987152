"""Reading curation and analysis inputs: mtsft record files as they are, anything else through the importers.

Shared by `curate`, `classify` and `analyze`, which all start from the same files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mtsft.data.common import reject
from mtsft.importers import convert, known_tasks, sniff_format
from mtsft.records import RecordError, iter_jsonl


def read_inputs(paths: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """(records, unreadable lines as rejected records, per-file summaries). mtsft records are taken as
    they are (the quality round judges them); other formats go through `mtsft.importers`."""
    records, bad, files = [], [], []
    known = known_tasks()
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such file")
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        n = 0
        for lineno, obj, err in iter_jsonl(path):
            n += 1
            source = f"{path}:{lineno}"
            try:
                if err:
                    raise RecordError(err)
                if isinstance(obj, dict) and "messages" in obj and ("task" in obj or "id" in obj):
                    records.append({**obj, "source": obj.get("source") or source})
                    continue
                fmt = sniff_format(obj)
                if fmt is None:
                    raise RecordError("not an mtsft record and no known format (import it with `mtsft data import --map`)")
                records.append(convert(obj, fmt, source, {}, known))
            except RecordError as e:
                bad.append(reject({"id": f"{Path(path).name}:{lineno}", "source": source, "raw": str(obj)[:2000],
                                   "meta": {}}, "read", "unreadable", detail=str(e)))
        files.append({"path": str(path), "lines": n, "sha256": digest})
    return records, bad, files
