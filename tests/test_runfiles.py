"""The run folder's files have one owner: `mtsft.runfiles` names them, reads them and writes them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from mtsft import runfiles

SRC = Path(__file__).resolve().parents[1] / "src" / "mtsft"
OWNER = SRC / "runfiles.py"
NAMES = (runfiles.RUN_INFO, runfiles.SCORES, runfiles.PREDICTIONS, runfiles.DIAGNOSIS, runfiles.STAGE)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (prose may describe the files; code may not name them)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def named_run_files(path: Path) -> list[str]:
    """`file:line: literal` for every string literal (f-string parts included) naming a run-folder file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [f"{path}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            and any(name in node.value for name in NAMES)]


def test_no_module_but_runfiles_names_a_run_folder_file():
    found = [hit for path in sorted(SRC.rglob("*.py")) if path != OWNER for hit in named_run_files(path)]
    assert not found, "name these files through mtsft.runfiles:\n" + "\n".join(found)


def test_the_scan_sees_a_file_name_in_code_but_not_in_a_docstring(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text('"""Reads scores.json."""\n\nPATH = f"{1}/scores.json"\n', encoding="utf-8")
    hits = named_run_files(module)
    assert len(hits) == 1 and ":3:" in hits[0]


def test_run_info_round_trips_and_an_absent_one_reads_none(tmp_path):
    assert runfiles.read_run_info(tmp_path) is None
    info = {"status": "completed", "config": {"model": "tiny", "task_tags": "system"}, "stages": {"main": {}}}
    runfiles.write_run_info(tmp_path, info)
    assert runfiles.read_run_info(tmp_path) == info
    assert json.loads((tmp_path / "run.json").read_text()) == info     # the on-disk format is plain JSON


def test_a_broken_run_info_is_one_error_naming_the_file(tmp_path):
    (tmp_path / "run.json").write_text("{half")
    with pytest.raises(ValueError, match=r"run\.json: unreadable"):
        runfiles.read_run_info(tmp_path)
    (tmp_path / "run.json").write_text("[1]")
    with pytest.raises(ValueError, match="not an mtsft run.json"):
        runfiles.read_run_info(tmp_path)


def test_scores_round_trip_in_a_suite_folder_and_as_a_named_file(tmp_path):
    scores = {"tasks": {"math": {"n": 2, "score": 0.5, "ci95": [0.0, 1.0], "metric": "exact"}},
              "overall": {"n": 2, "score": 0.5}, "run": {"suites": ["builtin"]}}
    written = runfiles.write_scores(tmp_path / "ev" / "builtin", scores)
    assert written == tmp_path / "ev" / "builtin" / "scores.json"
    assert runfiles.read_scores(tmp_path / "ev" / "builtin") == scores == runfiles.read_scores(written)
    beside = runfiles.scores_beside(tmp_path / "preds.jsonl")
    assert beside.name == "preds.scores.json"
    runfiles.write_scores(beside, scores, as_file=True)
    assert runfiles.read_scores(beside) == scores
    runfiles.write_scores(tmp_path / "report", scores, as_file=True)      # `eval score --out report`: that file
    assert (tmp_path / "report").is_file() and runfiles.read_scores(tmp_path / "report") == scores
    assert runfiles.suite_folders(tmp_path / "ev") == [tmp_path / "ev" / "builtin"]
    assert runfiles.suite_folders(tmp_path / "ev" / "builtin") == [tmp_path / "ev" / "builtin"]
    assert runfiles.scores_under(tmp_path, depth=1) == []
    assert runfiles.scores_under(tmp_path, depth=2) == [written] == runfiles.scores_under(tmp_path)


def test_predictions_round_trip_and_a_bad_line_is_named(tmp_path):
    rows = [{"id": "a", "task": "math", "prediction": "4", "score": 1.0}, {"id": "b", "task": "code", "prediction": ""}]
    assert runfiles.read_predictions(tmp_path) is None
    assert runfiles.write_predictions(tmp_path, rows) == 2
    assert runfiles.read_predictions(tmp_path) == rows
    (tmp_path / "predictions.jsonl").write_text(json.dumps(rows[0]) + "\n{oops\n")
    with pytest.raises(ValueError, match=r"predictions\.jsonl:2: malformed JSON"):
        runfiles.read_predictions(tmp_path)


def test_stage_marker_round_trips(tmp_path):
    assert runfiles.read_stage(tmp_path) is None
    key = {"config": "abc", "inputs": {"data/train.jsonl": "0123"}}
    runfiles.write_stage(tmp_path, key, {"kept": 3, "seconds": 1.5})
    assert runfiles.read_stage(tmp_path) == {"key": key, "result": {"kept": 3, "seconds": 1.5}}
    assert runfiles.stage_path(tmp_path).name == "stage.json"


def test_diagnosis_round_trips_and_is_found_under_a_root(tmp_path):
    data = {"fired": ["crosstalk"], "findings": [{"problem": "crosstalk", "value": Path("x")}], "levers": []}
    runfiles.write_diagnosis(tmp_path / "run" / "diagnose", data)
    back = runfiles.read_diagnosis(tmp_path / "run" / "diagnose")
    assert back["fired"] == ["crosstalk"] and back["findings"][0]["value"] == "x"    # default=str
    assert list(runfiles.diagnosis_folders(tmp_path)) == [tmp_path / "run" / "diagnose"]
