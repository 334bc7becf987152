"""The output rule (mtsft.outputs, SECURITY.md): a command writes only regular files it creates, refuses
before any work an output that is one of its inputs, a special file or a folder holding files it did not
write, deletes on a rerun only what its own list names, and writes every file atomically.

One test per example of issue 25, then every command that takes an output path against its own input, a
FIFO, a folder holding a foreign file (and /dev/null)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.outputs import OWNER, OutputRefused, claim_folder, clear_owned, own, owned, write_jsonl
from mtsft.tasks.synth import synth_records

runner = CliRunner()


def cli(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], terminal_width=400)
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root`: its kind, and for a regular file its bytes' hash and mtime (a FIFO is
    never opened)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            if p.is_symlink():
                out[str(p)] = ("link", os.readlink(p))
            elif p.is_file():
                out[str(p)] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns)
            else:
                out[str(p)] = ("dir" if p.is_dir() else "special", st.st_mode)
    return out


def assert_refused(code: int, output: str, path: Path) -> None:
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2, output
    assert len(errors) == 1 and str(path) in errors[0], output
    assert "Traceback" not in output


@pytest.fixture
def records():
    return synth_records(24, seed=0, clean=True)


@pytest.fixture
def data(tmp_path, records) -> Path:
    path = tmp_path / "data.jsonl"
    write_jsonl(path, records)
    return path


# ---- the examples of issue 25 -------------------------------------------------------------------------

def test_import_onto_its_own_input_is_refused(data):
    before = snapshot(data.parent)
    code, output = cli("data", "import", data, "--out", data)
    assert_refused(code, output, data)
    assert snapshot(data.parent) == before


def test_import_onto_a_hard_link_of_its_input_is_refused(tmp_path, data):
    link = tmp_path / "same-inode.jsonl"
    os.link(data, link)
    before = snapshot(tmp_path)
    code, output = cli("data", "import", data, "--out", link)
    assert_refused(code, output, link)
    assert snapshot(tmp_path) == before


def test_classify_onto_its_own_input_is_refused(data):
    before = snapshot(data.parent)
    code, output = cli("data", "classify", data, "--out", data)
    assert_refused(code, output, data)
    assert snapshot(data.parent) == before


def test_eval_score_onto_its_predictions_is_refused(tmp_path, records):
    predictions = tmp_path / "predictions.jsonl"
    write_jsonl(predictions, [{**r, "prediction": r["messages"][-1]["content"]} for r in records])
    before = snapshot(tmp_path)
    code, output = cli("eval", "score", "-p", predictions, "--out", predictions)
    assert_refused(code, output, predictions)
    assert snapshot(tmp_path) == before


def test_out_naming_a_fifo_is_refused_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, output = cli("data", "synth", "--n", 12, "--out", fifo)
    assert_refused(code, output, fifo)
    assert Path(fifo).is_fifo()


def test_out_naming_a_device_through_a_symlink_is_refused_not_replaced(tmp_path):
    link = tmp_path / "null.jsonl"
    link.symlink_to("/dev/null")
    code, output = cli("data", "synth", "--n", 12, "--out", link)
    assert_refused(code, output, link)
    assert link.is_symlink() and Path("/dev/null").is_char_device()


def test_curate_into_a_folder_of_user_files_deletes_nothing(tmp_path, data):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "kept.jsonl").write_text("my own kept records\n")
    (mine / "notes.md").write_text("my notes\n")
    (mine / ".draft.tmp-1").write_text("looks like a temporary file of mtsft's\n")
    before = snapshot(tmp_path)
    code, output = cli("data", "curate", data, "--out", mine)
    assert_refused(code, output, mine)
    assert snapshot(tmp_path) == before


def test_run_into_a_folder_holding_a_summary_json_is_refused(tmp_path, data):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "precious.jsonl").write_text("{}\n")
    (folder / "config.yaml").write_text("mine: true\n")
    (folder / "summary.json").write_text("{}")
    before = snapshot(tmp_path)
    for extra in ([], ["--overwrite"]):
        code, output = cli("run", "--profile", "tiny", "--data", data, "--out", folder, *extra)
        assert_refused(code, output, folder)
        assert snapshot(tmp_path) == before


def test_import_out_inside_an_imported_folder_is_refused(tmp_path, records):
    folder = tmp_path / "raw"
    write_jsonl(folder / "part1.jsonl", records)
    before = snapshot(tmp_path)
    code, output = cli("data", "import", folder, "--out", folder / "all.jsonl")
    assert_refused(code, output, folder / "all.jsonl")
    assert snapshot(tmp_path) == before


def test_eval_score_report_is_written_atomically(tmp_path, records):
    """A write that fails midway (here: the file-size limit, as a full disk would) leaves the earlier
    report whole; before, the report was truncated in place and then cut short."""
    predictions = tmp_path / "predictions.jsonl"
    write_jsonl(predictions, [{**r, "prediction": r["messages"][-1]["content"]} for r in records])
    report = tmp_path / "scores.json"
    report.write_text('{"earlier": "report"}')
    script = ("import resource, signal, sys\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (300, resource.RLIM_INFINITY))\n"
              "from mtsft.cli import app\n"
              "sys.argv = ['mtsft', 'eval', 'score', '-p', sys.argv[1], '--out', sys.argv[2]]\n"
              "app()\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script, str(predictions), str(report)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert json.loads(report.read_text()) == {"earlier": "report"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.jsonl", "scores.json"]


# ---- reruns and --overwrite: only what mtsft wrote ----------------------------------------------------

def test_rerun_into_a_folder_mtsft_wrote_works(tmp_path, data):
    out = tmp_path / "curated"
    for _ in range(2):
        code, output = cli("data", "curate", data, "--out", out, "--workers", 1)
        assert code == 0, output
    assert {"kept.jsonl", "rejected.jsonl", "manifest.json"} <= owned(out)


def test_overwrite_deletes_only_the_listed_entries(tmp_path):
    out = claim_folder(tmp_path / "out")
    write_jsonl(out / "a.jsonl", [{"x": 1}])
    claim_folder(out / "stage")
    write_jsonl(out / "stage" / "b.jsonl", [{"x": 2}])
    assert owned(out) == {"a.jsonl", "stage"}
    (out / "stage" / "c.txt").write_text("dropped in by the user")   # mtsft did not write it
    clear_owned(out)
    assert sorted(p.name for p in out.iterdir()) == [OWNER, "stage"]
    assert sorted(p.name for p in (out / "stage").iterdir()) == ["c.txt"]  # kept, with the folder
    with pytest.raises(OutputRefused, match="c.txt"):
        claim_folder(out / "stage")


def test_a_folder_without_the_list_is_never_emptied(tmp_path):
    folder = tmp_path / "users"
    folder.mkdir()
    (folder / "x.jsonl").write_text("{}\n")
    own(folder, "x.jsonl")                 # no list there: nothing is claimed
    clear_owned(folder)
    assert (folder / "x.jsonl").read_text() == "{}\n"
    with pytest.raises(OutputRefused, match="x.jsonl"):
        claim_folder(folder, overwrite=True)


# ---- every command that takes an output path, against the three cases --------------------------------

def _fake_run(root: Path) -> Path:
    """A training run's shape (enough for the refusal, which comes before anything loads)."""
    run = root / "run"
    (run / "model").mkdir(parents=True)
    (run / "model" / "config.json").write_text("{}")
    (run / "run.json").write_text(json.dumps({"status": "completed", "config": {"model": "tiny"}}))
    (run / "config.yaml").write_text("model: tiny\n")
    return run


# name: (arguments with OUT standing for the output path, the output's kind, the input case's path)
COMMANDS = {
    "data synth": (["data", "synth", "--n", 12, "--out", "OUT"], "file", None),
    "data import": (["data", "import", "DATA", "--out", "OUT"], "file", "DATA"),
    "data classify": (["data", "classify", "DATA", "--out", "OUT"], "file", "DATA"),
    "data analyze --out": (["data", "analyze", "DATA", "--no-near", "--out", "OUT"], "file", "DATA"),
    "data analyze --json": (["data", "analyze", "DATA", "--no-near", "--json", "OUT"], "file", "DATA"),
    "data curate": (["data", "curate", "DATA", "--out", "OUT"], "folder", "IN"),
    "train": (["train", "--model", "tiny", "--data", "DATA", "--out", "OUT"], "folder", "IN"),
    "export": (["export", "RUN", "--out", "OUT"], "folder", "RUN"),
    "eval score": (["eval", "score", "-p", "PRED", "--out", "OUT"], "file", "PRED"),
    "eval run": (["eval", "run", "--model", "tiny", "--suite", "DATA", "--out", "OUT"], "folder", "IN"),
    "diagnose --report": (["diagnose", "RUN", "--report", "OUT"], "folder", "RUN"),
    "diagnose --apply --out": (["diagnose", "RUN", "--apply", "--out", "OUT"], "file", "RUN/config.yaml"),
    "run": (["run", "--profile", "tiny", "--data", "DATA", "--out", "OUT"], "folder", "IN"),
    "iterate": (["iterate", "--profile", "tiny", "--set", "data=[DATA]", "--out", "OUT"], "folder", "IN"),
}
CASES = [(name, case) for name in COMMANDS for case in ("input", "fifo", "foreign", "device")
         if not (case == "input" and COMMANDS[name][2] is None)]


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_every_output_refuses_input_fifo_and_foreign_folder(tmp_path, records, name, case):
    args, _, input_case = COMMANDS[name]
    inputs = claim_folder(tmp_path / "in")            # an mtsft folder holding the input: only the input rule
    data = inputs / "data.jsonl"                      # refuses writing into it
    write_jsonl(data, records)
    pred = tmp_path / "predictions.jsonl"
    write_jsonl(pred, [{**r, "prediction": "x"} for r in records])
    run = _fake_run(tmp_path)
    paths = {"DATA": data, "IN": inputs, "PRED": pred, "RUN": run, "RUN/config.yaml": run / "config.yaml"}
    if case == "input":
        out = paths[input_case]
    elif case == "fifo":
        out = tmp_path / "fifo"
        os.mkfifo(out)
    elif case == "device":
        out = Path("/dev/null")
    else:
        out = tmp_path / "foreign"
        out.mkdir()
        (out / "mine.txt").write_text("not mtsft's")
    paths["OUT"] = out
    argv = [str(paths.get(a, a)).replace("DATA", str(data)) if isinstance(a, str) else a for a in args]
    before = snapshot(tmp_path)
    code, output = cli(*argv)
    assert_refused(code, output, out)
    assert snapshot(tmp_path) == before
    assert Path("/dev/null").is_char_device()
