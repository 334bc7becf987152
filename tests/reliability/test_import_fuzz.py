"""Fuzzing the importers: random corruptions of valid files never crash, hang or lose a row.

For each container the importers read (JSONL, JSON array, CSV, Parquet), hypothesis builds a valid file
of a community format, corrupts it (truncation, random bytes, wrong types, huge strings, deep nesting,
NUL, lone surrogates, lines in other encodings) and runs `import_to` on it. Asserted every time: no
exception, no hang (a 20 s alarm), inputs == kept + rejected with a reason and a source on every
rejection, no reason from the "internal error" safety net, and the written files read back whole.

MTSFT_FUZZ_EXAMPLES sets the examples per container (default 2,000, what CI runs).
"""

from __future__ import annotations

import io
import json
import os
import signal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtsft.importers import import_to
from mtsft.records import iter_jsonl, read_records, sidecar

EXAMPLES = int(os.environ.get("MTSFT_FUZZ_EXAMPLES", "2000"))
DEEP = "\x00DEEP\x00"  # placeholder a serialiser turns into deeply nested JSON

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)
ALPACA = st.fixed_dictionaries({"instruction": text, "output": text}, optional={"input": text, "system": text})
SHAREGPT = st.builds(lambda turns: {"conversations": [x for q, a in turns for x in
                                                      ({"from": "human", "value": q}, {"from": "gpt", "value": a})]},
                     st.lists(st.tuples(text, text), min_size=1, max_size=3))
OPENAI = st.builds(lambda turns: {"messages": [x for q, a in turns for x in
                                               ({"role": "user", "content": q}, {"role": "assistant", "content": a})]},
                   st.lists(st.tuples(text, text), min_size=1, max_size=3))
PROMPT = st.fixed_dictionaries({"prompt": text, "completion": text})

WRONG = st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
                  st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
VALUE_CORRUPTION = st.one_of(
    WRONG,
    st.integers(10_000, 300_000).map(lambda n: "x" * n),                      # huge string
    st.just(DEEP),                                                            # deep nesting
    st.sampled_from(["nul\x00inside", "\x00", "a\u0000b"]),                   # NUL
    st.sampled_from(["\ud800", "lone \udfff tail", "\udcff"]),                # lone surrogates
)


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


@st.composite
def corrupted_objects(draw, formats=(ALPACA, SHAREGPT, OPENAI, PROMPT)):
    fmt = draw(st.sampled_from(formats))
    objs = draw(st.lists(fmt, min_size=1, max_size=6))
    for _ in range(draw(st.integers(0, 3))):
        obj = draw(st.sampled_from(objs))
        kind = draw(st.sampled_from(["leaf", "key", "top"]))
        if kind == "top":
            objs[draw(st.integers(0, len(objs) - 1))] = draw(WRONG)
        elif kind == "key":
            if isinstance(obj, dict) and obj:
                obj.pop(draw(st.sampled_from(sorted(obj))))
        else:
            leaves = [p for p in _leaves(obj) if p]
            if leaves:
                _set(obj, draw(st.sampled_from(leaves)), draw(VALUE_CORRUPTION))
    return objs


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _dump(obj, rng_ascii: bool, depth: int) -> bytes:
    text = json.dumps(obj, ensure_ascii=rng_ascii)
    if not rng_ascii:  # surrogates written raw: bytes that are not UTF-8 (CESU-8)
        data = text.encode("utf-8", "surrogatepass")
    else:
        data = text.encode("ascii")
    marker = json.dumps(DEEP, ensure_ascii=rng_ascii).encode("utf-8", "surrogatepass")
    return data.replace(marker, _deep(depth))


@st.composite
def byte_corruptions(draw, data: bytes) -> bytes:
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["truncate", "insert", "overwrite", "reencode", "nul"]))
        pos = draw(st.integers(0, max(0, len(data))))
        if op == "truncate":
            data = data[:pos]
        elif op == "insert":
            data = data[:pos] + draw(st.binary(min_size=1, max_size=16)) + data[pos:]
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data = data[:pos] + chunk + data[pos + len(chunk):]
        elif op == "nul":
            data = data[:pos] + b"\x00" + data[pos:]
        else:  # one line in another encoding (mixed encodings in one file)
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            codec = draw(st.sampled_from(["latin-1", "utf-16", "gb18030", "cp1252"]))
            lines[i] = lines[i].decode("utf-8", "replace").encode(codec, "replace")
            data = b"\n".join(lines)
    return data


@st.composite
def jsonl_files(draw):
    objs = draw(corrupted_objects())
    ascii_, depth = draw(st.booleans()), draw(st.sampled_from([50, 3000, 100_000]))
    data = b"".join(_dump(o, ascii_, depth) + b"\n" for o in objs)
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return draw(byte_corruptions(data))


@st.composite
def json_array_files(draw):
    objs = draw(corrupted_objects())
    return draw(byte_corruptions(_dump(objs, draw(st.booleans()), draw(st.sampled_from([50, 3000, 100_000])))))


@st.composite
def csv_files(draw):
    import csv

    objs = draw(corrupted_objects(formats=(ALPACA, PROMPT)))
    header = sorted({k for o in objs if isinstance(o, dict) for k in o}) or ["instruction"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for o in objs:
        o = o if isinstance(o, dict) else {}
        w.writerow([v if isinstance(v, str) else json.dumps(v) for v in (o.get(k, "") for k in header)])
    data = buf.getvalue().replace(DEEP, "[" * 5000).encode("utf-8", "surrogatepass")
    return draw(byte_corruptions(data))


@st.composite
def parquet_files(draw):
    objs = draw(corrupted_objects(formats=(ALPACA, SHAREGPT, OPENAI)))
    rows = []
    for o in objs:  # Parquet holds typed columns: keep what arrow can store, as a chat table would have it
        o = o if isinstance(o, dict) else {"instruction": o}
        rows.append({k: (json.dumps(v) if not isinstance(v, (str, list)) else v) for k, v in o.items()})
    try:
        table = pa.Table.from_pylist(rows)
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf)
        data = buf.getvalue().to_pybytes()
    except (pa.ArrowException, UnicodeError, ValueError, TypeError, OverflowError):
        data = b"PAR1 not really a parquet file"
    return draw(byte_corruptions(data))


def _alarm(*_):
    raise TimeoutError("import hangs on this input")


def _check(tmp: Path, name: str, data: bytes) -> None:
    src = tmp / name
    src.write_bytes(data)
    out = tmp / "out.jsonl"
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        result = import_to([str(src)], out)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert result.inputs == len(result.kept) + len(result.rejected)
    kept = read_records(out)
    rejected = [obj for _, obj, err in iter_jsonl(sidecar(out, "rejected.jsonl")) if not err]
    assert len(kept) == len(result.kept)
    assert len(rejected) == len(result.rejected)
    for r in rejected:
        assert r["reason"] and r["source"], r
        assert not r["reason"].startswith("internal error"), r["reason"]
    for r in kept:
        assert r["messages"] and r["source"].startswith(str(src))
    summary = json.loads(sidecar(out, "summary.json").read_text(encoding="utf-8"))
    assert (summary["inputs"], summary["kept"], summary["rejected"]) == (result.inputs, len(kept), len(rejected))


FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


@pytest.mark.parametrize("name, files", [("data.jsonl", jsonl_files()), ("data.json", json_array_files()),
                                         ("data.csv", csv_files()), ("data.parquet", parquet_files())],
                         ids=["jsonl", "json-array", "csv", "parquet"])
def test_corrupted_files_never_crash_hang_or_lose_a_row(tmp_path_factory, monkeypatch, name, files):
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not under test here; fsync is 90% of the time

    folder = tmp_path_factory.mktemp("fuzz")  # reused: every example rewrites the input and all outputs

    @FUZZ
    @given(files)
    def run(data):
        _check(folder, name, data)

    run()
