"""Importers never crash: each input that broke them is a named case here.

Every case checks the same three things: no exception escapes, every input row is kept or rejected with a
reason that names where it came from, and the good rows beside the bad one still import.
"""

from __future__ import annotations

import errno
import json
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from mtsft import records as records_mod
from mtsft.importers import import_files, import_to
from mtsft.records import read_records, sidecar

GOOD = b'{"instruction": "What is 2+2?", "output": "4"}\n'


@contextmanager
def deadline(seconds: int):
    """Fail (instead of hanging the suite) when the block runs longer than `seconds`."""
    def boom(*_):
        raise TimeoutError(f"still running after {seconds}s: the importer hangs")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def reasons(result) -> list[str]:
    return [r["reason"] for r in result.rejected]


def accounted(result) -> None:
    assert result.inputs == len(result.kept) + len(result.rejected)
    assert all(r["reason"] and r["source"] for r in result.rejected)
    assert not any(r["reason"].startswith("internal error") for r in result.rejected), reasons(result)


def test_deeply_nested_json_line_is_rejected_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(GOOD + b'{"instruction": ' + b"[" * 100_000 + b"]" * 100_000 + b', "output": "a"}\n' + GOOD)
    result = import_files([str(path)])
    accounted(result)
    assert len(result.kept) == 2
    (bad,) = result.rejected
    assert bad["source"] == f"{path}:2" and "nested too deeply" in bad["reason"]


def test_deeply_nested_json_array_file_is_one_rejected_input(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    good = tmp_path / "good.jsonl"
    good.write_bytes(GOOD)
    result = import_files([str(deep), str(good)])
    accounted(result)
    assert len(result.kept) == 1 and "nested too deeply" in result.rejected[0]["reason"]


def test_record_nested_too_deep_to_write_back_is_rejected_before_writing(tmp_path):
    # readable by json.loads, one level too deep for json.dumps once wrapped in a record
    import sys

    depth = sys.getrecursionlimit() - 15
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"instruction": "q", "output": "a", "reference": ' + b"[" * depth + b"]" * depth + b"}\n" + GOOD)
    out = tmp_path / "out.jsonl"
    result = import_to([str(path)], out)
    accounted(result)
    kept = read_records(out)
    assert len(kept) + len(result.rejected) == 2 and len(kept) >= 1


def test_lone_surrogate_rejects_its_record_only_naming_file_and_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(GOOD + b'{"instruction": "bad \\ud800 text", "output": "a"}\n' + GOOD)
    out = tmp_path / "out" / "data.jsonl"
    result = import_to([str(path)], out)
    accounted(result)
    assert len(read_records(out)) == 2
    (bad,) = [json.loads(x) for x in sidecar(out, "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert bad["source"] == f"{path}:2" and "surrogate" in bad["reason"]
    assert json.loads(sidecar(out, "summary.json").read_text())["rejected"] == 1


def test_undecodable_file_name_is_written_as_text(tmp_path):
    name = os.fsdecode(b"caf\xe9.jsonl")  # not UTF-8: the str holds a surrogate escape
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(GOOD)
    out = tmp_path / "out.jsonl"  # outside the input folder: the output rule refuses one inside it
    result = import_to([str(tmp_path / "in")], out)
    accounted(result)
    (rec,) = read_records(out)
    assert "caf" in rec["source"]


@pytest.mark.parametrize("column, rows", [
    ("messages", [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                   {"role": "assistant", "content": "hello"}]]),
    ("conversations", [[{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"},
                        {"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4"}]]),
])
def test_chat_format_parquet_is_kept_not_rejected_as_numpy_arrays(tmp_path, column, rows):
    path = tmp_path / "chat.parquet"
    pd.DataFrame({column: rows * 3, "id": ["a", "b", "c"]}).to_parquet(path)
    result = import_files([str(path)])
    accounted(result)
    assert len(result.kept) == 3, reasons(result)
    assert [m["content"] for m in result.kept[0]["messages"]][-1] in ("hello", "4")


def test_unreadable_file_is_one_rejection_and_the_files_beside_it_import(tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_bytes(GOOD)
    locked = tmp_path / "b.jsonl"
    locked.write_bytes(GOOD)
    (tmp_path / "c.jsonl").write_bytes(GOOD)
    if os.geteuid() == 0:  # root reads a mode-000 file: the permission error comes from a patched open
        real = records_mod.open_regular

        def refuse(path):
            if Path(path).name == "b.jsonl":
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(records_mod, "open_regular", refuse)
    else:
        locked.chmod(0)
    result = import_files([str(tmp_path)])
    accounted(result)
    assert len(result.kept) == 2
    (bad,) = result.rejected
    assert bad["source"] == str(locked) and "Permission denied" in bad["reason"]


def test_fifo_is_rejected_without_hanging(tmp_path):
    (tmp_path / "good.jsonl").write_bytes(GOOD)
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with deadline(20):
        in_folder = import_files([str(tmp_path)])
        direct = import_files([str(fifo)])
    accounted(in_folder)
    assert len(in_folder.kept) == 1 and "FIFO" in in_folder.rejected[0]["reason"]
    assert direct.rejected[0]["source"] == str(fifo) and "FIFO" in direct.rejected[0]["reason"]


def test_fifo_opened_past_the_check_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with deadline(20), pytest.raises(OSError, match="FIFO"):
        list(records_mod.iter_jsonl(fifo))


def test_symlink_loops_are_reported_not_skipped(tmp_path):
    (tmp_path / "good.jsonl").write_bytes(GOOD)
    os.symlink("loop.jsonl", tmp_path / "loop.jsonl")          # a file link to itself
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")                  # a folder link to an ancestor
    os.symlink("missing.jsonl", tmp_path / "dangling.jsonl")
    with deadline(20):
        result = import_files([str(tmp_path)])
        direct = import_files([str(tmp_path / "loop.jsonl")])
    accounted(result)
    assert len(result.kept) == 1
    by_source = {Path(r["source"]).name: r["reason"] for r in result.rejected}
    assert by_source["loop.jsonl"] == "symlink loop"
    assert "symlink loop" in by_source["up"]
    assert "dangling" in by_source["dangling.jsonl"]
    assert direct.rejected[0]["reason"] == "symlink loop"


def test_malformed_csv_rows_are_rejected_one_by_one(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'instruction,output\nq1,a1\n"bad \xff byte",a\nonly one field\nq2,a2\n')
    result = import_files([str(path)])
    accounted(result)
    assert len(result.kept) == 2 and len(result.rejected) == 2


def test_truncated_parquet_is_one_rejected_input_and_others_import(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"instruction": ["q"] * 10, "output": ["a"] * 10}).to_parquet(path)
    path.write_bytes(path.read_bytes()[:-40])
    (tmp_path / "good.jsonl").write_bytes(GOOD)
    result = import_files([str(tmp_path)])
    accounted(result)
    assert len(result.kept) == 1 and "unreadable parquet" in result.rejected[0]["reason"]


def test_too_long_line_is_rejected_without_being_held(tmp_path, monkeypatch):
    monkeypatch.setattr(records_mod, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "long.jsonl"
    path.write_bytes(GOOD + b'{"instruction": "' + b"x" * 5000 + b'", "output": "a"}\n' + GOOD)
    result = import_files([str(path)])
    accounted(result)
    assert len(result.kept) == 2 and "line too long" in result.rejected[0]["reason"]
    assert result.rejected[0]["source"] == f"{path}:2"


def test_curation_inputs_reject_hostile_lines_one_by_one(tmp_path):
    """`curate`, `classify` and `analyze` read their inputs through the same hardened reader."""
    from mtsft.data.inputs import read_inputs

    path = tmp_path / "in.jsonl"
    record = {"id": "a", "task": None, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    path.write_bytes(json.dumps(record).encode() + b"\n"
                     + b'{"id": "b", "task": null, "messages": [{"role": "user", "content": "\\ud800"}]}\n'
                     + b"[" * 50_000 + b"]" * 50_000 + b"\n"
                     + b'{"instruction": "q", "output": "a"}\n')
    records, bad, files = read_inputs([str(path)])
    assert [r["id"] for r in records][0] == "a" and len(records) == 2
    assert len(bad) == 2 and files[0]["lines"] == 4
    details = sorted(b["meta"]["rejected"]["detail"] for b in bad)
    assert "nested too deeply" in details[0] and "surrogate" in details[1]
