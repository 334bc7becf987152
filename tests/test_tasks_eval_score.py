"""`score_predictions` and `mtsft eval score`: per-task table and JSON from records with a prediction."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.eval.prediction_scores import score_predictions
from mtsft.records import response, write_jsonl
from mtsft.tasks.synth import synth_records


def _predictions(n=48, wrong_every=2):
    records = synth_records(n, seed=5, clean=True)
    for i, r in enumerate(records):
        r["prediction"] = "no idea" if i % wrong_every == 0 else response(r)
    return records


def test_reference_predictions_score_one_per_task():
    records = synth_records(60, seed=5, clean=True)
    for r in records:
        r["prediction"] = response(r)
    result = score_predictions(records)
    assert all(row["score"] == 1.0 and row["format_ok"] == 1.0 for row in result["tasks"].values())


def test_wrong_predictions_lower_the_score_and_count_violations():
    result = score_predictions(_predictions())
    assert result["overall"]["score"] < 0.75
    assert sum(result["overall"]["violations"].values()) > 0


def test_missing_prediction_is_an_error_naming_the_record():
    records = synth_records(3, seed=0, clean=True)
    with pytest.raises(ValueError, match="prediction"):
        score_predictions(records)


def test_cli_prints_table_and_writes_json(tmp_path):
    path = tmp_path / "preds.jsonl"
    write_jsonl(path, _predictions())
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(app, ["eval", "score", "--predictions", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "overall" in result.output
    data = json.loads(out.read_text())
    assert set(data["tasks"]) and 0 <= data["overall"]["score"] <= 1


def test_cli_bad_line_is_a_one_line_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"messages": [], "task": "math"}\nnot json\n')
    result = CliRunner().invoke(app, ["eval", "score", "--predictions", str(path)])
    assert result.exit_code == 2 and "bad.jsonl:1" in result.output
