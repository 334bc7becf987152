"""Outputs are never half-written: an import or a curation SIGKILLed at any point of its writing leaves
nothing a later stage trusts, and a rerun replaces it with complete outputs.

Each case: a complete earlier run sits in the output (the "old outputs that look complete" trap), a new
run into the same place is killed at one point (see killer.py), and then
  - the process really died there (exit by SIGKILL: a kill point never reached fails the test);
  - every file under its final name is whole (each line parses): partial bytes only ever sit in temp files;
  - every reader refuses the outputs: `train --data`'s check, `read_records`, curate reading the folder;
  - a rerun without the kill completes, equals a clean run into a fresh folder, and leaves no temp file.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mtsft.cli.train import check_data_file
from mtsft.data.inputs import read_inputs
from mtsft.importers import import_to
from mtsft.outputs import OWNER, TMP_MARK
from mtsft.records import IncompleteOutput, MANIFEST, check_complete, read_records, sidecar

KILLER = Path(__file__).with_name("killer.py")


def write_input(path: Path, n: int, tag: str) -> str:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"instruction": f"{tag} question {i}: what is {i} times 3?", "output": f"{3 * i}"}) + "\n")
        f.write("{not json\n")  # one rejection, so the rejected file is not empty
    return str(path)


def kill_at(stage: str, point: str, out: Path, inputs: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(KILLER), stage, point, str(out), *inputs],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, (
        f"not killed at {point} (exit {proc.returncode}): {proc.stderr[-2000:]}")


def lines_whole(path: Path) -> None:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path.name} ends mid-line"
    for line in data.splitlines():
        json.loads(line)


def no_temp_files(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if TMP_MARK in p.name]


# ---- import -----------------------------------------------------------------------------------------

IMPORT_POINTS = ["replace:1",                 # before the rejected file is renamed into place
                 "replace:2",                 # rejected renamed, before the records are
                 "replace:3",                 # both renamed, before the summary (the marker)
                 "write:data.jsonl:100000"]   # in the middle of writing the records


@pytest.mark.parametrize("point", IMPORT_POINTS)
def test_killed_import_is_never_trusted_and_a_rerun_completes(tmp_path, point):
    old = write_input(tmp_path / "old.jsonl", 50, "old")
    new = write_input(tmp_path / "new.jsonl", 3000, "new")
    out = tmp_path / "out" / "data.jsonl"
    import_to([old], out)
    assert len(read_records(out)) == 50  # complete and trusted

    kill_at("import", point, out, [new])

    for f in (out, sidecar(out, "rejected.jsonl")):
        if f.exists():
            lines_whole(f)
    assert not sidecar(out, "summary.json").exists()
    with pytest.raises(IncompleteOutput, match="did not finish"):
        read_records(out)
    with pytest.raises(IncompleteOutput):
        check_data_file(str(out), "--data")
    with pytest.raises(IncompleteOutput):
        read_inputs([str(out)])

    import_to([new], out)
    clean = tmp_path / "clean" / "data.jsonl"
    import_to([new], clean)
    assert out.read_bytes() == clean.read_bytes()
    assert len(read_records(out)) == 3000
    assert json.loads(sidecar(out, "summary.json").read_text())["kept"] == 3000
    no_temp_files(out.parent)


# ---- curate -----------------------------------------------------------------------------------------

CURATE_POINTS = ["replace:1",                  # old manifest gone, nothing renamed yet
                 "replace:3",                  # rejected and review renamed, before kept.jsonl
                 "replace:6",                  # every file in place, before the manifest
                 "write:kept.jsonl:100000",    # in the middle of writing kept.jsonl
                 f"write:{OWNER}:20",          # in the middle of rewriting the folder's list of its outputs
                 "write:manifest.json:50"]     # in the middle of writing the manifest itself


def import_killer():
    sys.path.insert(0, str(KILLER.parent))
    try:
        import killer
    finally:
        sys.path.pop(0)
    return killer


def passthrough_curate(monkeypatch, inputs, out):
    killer = import_killer()
    import mtsft.data.curate as curate_mod
    from mtsft.data.config import CurateConfig

    monkeypatch.setattr(curate_mod, "curate", killer.passthrough_curate)
    monkeypatch.setattr(curate_mod, "write_report", killer.fake_report)
    return curate_mod.curate_files(inputs, CurateConfig(progress=False), out, log=None)


def test_the_passthrough_kills_really_count_the_renames(tmp_path, monkeypatch):
    """The curate kill points above assume six renames the killer counts before the manifest, on a first
    run and on a rerun into the same folder (where the kill tests strike): pin that down, and that the
    manifest is the very last rename, after every rewrite of the folder's list."""
    import os

    killer = import_killer()
    new = write_input(tmp_path / "new.jsonl", 20, "new")
    renamed = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b, *x, **k: (renamed.append(Path(b).name), real(a, b, *x, **k))[1])
    for _ in ("first run", "rerun"):
        renamed.clear()
        passthrough_curate(monkeypatch, [new], tmp_path / "cur")
        assert [n for n in renamed if killer.counts_as_output(n)] == [
            "rejected.jsonl", "review.jsonl", "kept.jsonl", "report.html", "report.md", MANIFEST]
        assert OWNER in renamed and renamed[-1] == MANIFEST


@pytest.mark.parametrize("point", CURATE_POINTS)
def test_killed_curation_is_never_trusted_and_a_rerun_completes(tmp_path, monkeypatch, point):
    old = write_input(tmp_path / "old.jsonl", 50, "old")
    new = write_input(tmp_path / "new.jsonl", 3000, "new")
    out = tmp_path / "curated"
    passthrough_curate(monkeypatch, [old], out)
    assert len(read_records(out / "kept.jsonl")) == 50  # complete and trusted

    kill_at("curate", point, out, [new])

    for name in ("kept.jsonl", "rejected.jsonl", "review.jsonl"):
        if (out / name).exists():
            lines_whole(out / name)
    assert not (out / MANIFEST).exists()
    with pytest.raises(IncompleteOutput, match="manifest"):
        check_complete(out)
    with pytest.raises(IncompleteOutput):
        read_records(out / "kept.jsonl")
    with pytest.raises(IncompleteOutput):
        check_data_file(str(out / "kept.jsonl"), "--data")
    with pytest.raises(IncompleteOutput):
        read_inputs([str(out)])

    passthrough_curate(monkeypatch, [new], out)
    clean = tmp_path / "clean"
    passthrough_curate(monkeypatch, [new], clean)
    assert (out / "kept.jsonl").read_bytes() == (clean / "kept.jsonl").read_bytes()
    assert len(read_records(out / "kept.jsonl")) == 3000
    assert len(read_inputs([str(out)])[0]) == 3000  # a finished curated folder is an input like a file
    no_temp_files(out)


def test_a_kept_file_edited_after_curation_is_not_trusted(tmp_path, monkeypatch):
    out = tmp_path / "curated"
    passthrough_curate(monkeypatch, [write_input(tmp_path / "in.jsonl", 30, "x")], out)
    kept = out / "kept.jsonl"
    kept.write_bytes(b"".join(kept.read_bytes().splitlines(keepends=True)[:9]))  # 9 whole lines, as in the issue
    with pytest.raises(IncompleteOutput, match="does not match"):
        read_records(kept)


def test_train_cli_refuses_an_unfinished_curation_in_one_line(tmp_path, monkeypatch):
    out = tmp_path / "curated"
    passthrough_curate(monkeypatch, [write_input(tmp_path / "in.jsonl", 30, "x")], out)
    (out / MANIFEST).unlink()
    proc = subprocess.run([sys.executable, "-m", "mtsft", "train", "--data", str(out / "kept.jsonl"),
                           "--out", str(tmp_path / "run"), "--model", "tiny"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "no manifest.json" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()
