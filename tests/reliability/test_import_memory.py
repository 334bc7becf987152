"""Importing streams: big inputs go through with bounded memory, measured as the peak RSS of a fresh
process that runs `import_to` (so nothing else in the test session counts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LIMIT_MB = 1024

CHILD = r"""
import json, resource, sys, time
from mtsft.importers import import_to, known_tasks
known_tasks()  # the task registry: loaded by every import, its weight is not the input's
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
r = import_to([sys.argv[1]], sys.argv[2])
reasons = sorted({x for f in r.files for x in f.reasons})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_mb": peak, "growth_mb": peak - base, "kept": len(r.kept),
                  "rejected": len(r.rejected), "inputs": r.inputs, "reasons": reasons,
                  "seconds": round(time.perf_counter() - start, 1)}))
"""


def run_import(src: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(out)], capture_output=True, text=True,
                          timeout=540)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\n{src.name}: {stats}")
    return stats


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def test_a_10mb_single_record_is_kept_with_bounded_memory(tmp_path):
    src = tmp_path / "big_record.jsonl"
    src.write_text(json.dumps({"instruction": "Repeat the text.", "output": "word " * (2 << 20)}) + "\n")
    assert src.stat().st_size > 10 << 20
    stats = run_import(src, tmp_path / "out.jsonl")
    assert (stats["kept"], stats["rejected"]) == (1, 0)
    assert stats["peak_mb"] < LIMIT_MB
    assert (tmp_path / "out.jsonl").stat().st_size > 10 << 20


def test_a_million_line_file_streams_with_bounded_memory(tmp_path):
    src = tmp_path / "million.jsonl"
    with open(src, "w") as f:
        for i in range(1_000_000):
            f.write(f'{{"instruction": "Question {i}: what is {i} plus one?", "output": "{i + 1}"}}\n')
    stats = run_import(src, tmp_path / "out.jsonl")
    assert (stats["inputs"], stats["kept"], stats["rejected"]) == (1_000_000, 1_000_000, 0)
    assert count_lines(tmp_path / "out.jsonl") == 1_000_000
    assert stats["peak_mb"] < LIMIT_MB
    assert stats["growth_mb"] < 200  # streamed: a million records held in memory would take over 1 GB


def test_a_200mb_line_is_rejected_without_reading_it_whole(tmp_path):
    """The first line is 200 MB (what the format sniffing reads first): it is rejected as too long, the
    lines after it import, and memory stays far below the line's size."""
    src = tmp_path / "huge_line.jsonl"
    good = b'{"instruction": "What is 2+2?", "output": "4"}\n'
    with open(src, "wb") as f:
        f.write(b'{"instruction": "q", "output": "')
        block = b"x" * (1 << 20)
        for _ in range(200):
            f.write(block)
        f.write(b'"}\n' + good * 3)
    stats = run_import(src, tmp_path / "out.jsonl")
    assert (stats["kept"], stats["rejected"]) == (3, 1)
    assert any("line too long" in r for r in stats["reasons"])
    assert stats["peak_mb"] < LIMIT_MB
    assert stats["growth_mb"] < 300  # the line is never held whole: held as bytes and as text it would pass 400
