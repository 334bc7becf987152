"""Runs compared (issue 33.1): `mtsft runs ls` lists the runs under a folder, `mtsft runs compare` puts them side
by side with paired intervals where the records are the same and writes a self-contained page; `report_to:
[mlflow]` logs training and mtsft's scores and verdicts to a local store."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mtsft import runfiles
from mtsft.cli import app
from mtsft.diagnose import stats
from mtsft.diagnose.runs import RunsConfig, compare_many

runner = CliRunner()

# Per record id: task and score. A and B answer the same ten prompts; C answers other prompts.
A = {f"r{i}": ("math" if i < 5 else "translation", s) for i, s in enumerate([0, 0, 1, 0, 1, .2, .3, .1, .4, .2])}
B = {f"r{i}": ("math" if i < 5 else "translation", s) for i, s in enumerate([1, 1, 1, 0, 1, .5, .6, .2, .4, .6])}
C = {f"c{i}": ("math" if i < 5 else "translation", s) for i, s in enumerate([1, 0, 0, 0, 1, .1, .2, .3, .4, .5])}


def write_eval(folder: Path, records: dict, suite: str = "builtin", model: str = "tiny") -> Path:
    """An `mtsft eval run --out` folder: SUITE/predictions.jsonl and SUITE/scores.json, as evaluate writes them."""
    rows = [{"id": rid, "task": task, "lang": "en", "suite": suite, "prompt": f"prompt {rid}", "prediction": "x",
             "reference": "y", "score": score, "metric": "m"} for rid, (task, score) in records.items()]
    runfiles.write_predictions(folder / suite, rows)
    tasks = {}
    for task in sorted({t for t, _ in records.values()}):
        values = [s for t, s in records.values() if t == task]
        tasks[task] = {"n": len(values), "score": sum(values) / len(values), "ci95": [0.0, 1.0], "metric": "m"}
    overall = [s for _, s in records.values()]
    runfiles.write_scores(folder / suite, {"tasks": tasks, "overall": {"n": len(overall), "score": sum(overall) / len(overall)},
                                           "run": {"model": model, "adapter": None, "records": len(overall)}})
    return folder


@pytest.fixture
def three_runs(tmp_path):
    root = tmp_path / "runs"
    return [write_eval(root / name, recs) for name, recs in (("run-a", A), ("run-b", B), ("run-c", C))]


def tsv(output: str) -> list[list[str]]:
    return [line.split("\t") for line in output.splitlines() if "\t" in line]


def paired_interval(first: dict, later: dict, task: str) -> str:
    ids = [rid for rid, (t, _) in first.items() if t == task]
    delta, ci = stats.paired_mean_diff([first[i][1] for i in ids], [later[i][1] for i in ids], 1000, 0)
    return f"{delta:+.3f}{'*' if ci[0] > 0 or ci[1] < 0 else ''} [{ci[0]:+.3f}, {ci[1]:+.3f}]"


def test_runs_compare_on_three_tiny_runs_prints_scores_paired_intervals_and_writes_its_page(three_runs, tmp_path):
    out = tmp_path / "cmp"
    r = runner.invoke(app, ["runs", "compare", *map(str, three_runs), "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = {(row[0], row[1]): row for row in tsv(r.output)}
    head = rows[("suite", "task")]
    assert head[4:] == ["run-a", "run-b (change vs run-a)", "run-c (change vs run-a)"]
    math = rows[("builtin", "math")]
    assert math[3] == "5" and math[4] == "0.400"
    # B answered A's prompts: its change carries the paired interval over those prompts
    assert math[5] == f"0.800 {paired_interval(A, B, 'math')}"
    # C answered other prompts: no paired interval, and the row says why
    assert math[6] == "0.400 +0.000 n/a (different records)"
    assert rows[("builtin", "translation")][5] == f"0.460 {paired_interval(A, B, 'translation')}"
    assert rows[("builtin", "macro")][6].endswith("n/a (different records)")

    page = (out / "compare.html").read_text(encoding="utf-8")
    for name in ("run-a", "run-b", "run-c"):
        assert name in page
    assert paired_interval(A, B, "math").split(" ", 1)[1] in page and "n/a (different records)" in page
    assert not re.search(r"""(src|href)=['"]?(https?:|//)""", page)      # self-contained: no outside asset
    assert "data:image/png;base64," in page
    saved = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert [run["name"] for run in saved["runs"]] == ["run-a", "run-b", "run-c"]


def test_twenty_runs_compare_the_same_way_as_two(tmp_path):
    runs = [write_eval(tmp_path / f"r{k:02d}", {rid: (t, min(1.0, s + k / 40)) for rid, (t, s) in A.items()})
            for k in range(20)]
    cfg = RunsConfig(samples=200)
    many = compare_many(runs, cfg)
    assert len(many.names) == 20
    for k in (1, 7, 19):
        two = compare_many([runs[0], runs[k]], cfg)
        for row_many, row_two in zip(many.rows, two.rows):
            assert row_many["changes"][k] == row_two["changes"][1]
            assert row_many["scores"][k] == row_two["scores"][1]


def test_runs_compare_refuses_one_run_a_training_run_without_scores_and_a_user_folder(three_runs, tmp_path):
    r = runner.invoke(app, ["runs", "compare", str(three_runs[0]), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "two runs or more" in r.output
    train = tmp_path / "train-only"
    runfiles.write_run_info(train, {"status": "completed", "config": {"model": "tiny"}, "method": "lora"})
    r = runner.invoke(app, ["runs", "compare", str(three_runs[0]), str(train), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "mtsft eval run --adapter" in r.output and len(r.output.strip().splitlines()) == 1
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    r = runner.invoke(app, ["runs", "compare", *map(str, three_runs[:2]), "-o", str(mine)])
    assert r.exit_code == 2 and "did not write" in r.output
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_runs_ls_lists_the_three_runs_a_training_run_and_a_pipeline_run(three_runs, tmp_path):
    root = three_runs[0].parent
    runfiles.write_run_info(root / "train-x", {
        "status": "completed", "config": {"model": "tiny"}, "method": "lora", "finished": "2026-12-01T10:20:30",
        "data": {"records": 48}, "metrics": {"tokens": 1234}})
    pipeline = root / "pipe"
    (pipeline / "train").mkdir(parents=True)
    (pipeline / "config.yaml").write_text("model: tiny\n")
    write_eval(pipeline / "eval_tuned", B)
    r = runner.invoke(app, ["runs", "ls", str(root)])
    assert r.exit_code == 0, r.output
    rows = {Path(row[0]).name: row for row in tsv(r.output)[1:]}
    assert sorted(rows) == ["pipe", "run-a", "run-b", "run-c", "train-x"]   # eval_tuned/ is part of pipe
    assert rows["run-a"][1:6] == ["eval", "tiny", "base", "10", ""] and rows["run-a"][7] == "builtin 0.320"
    assert rows["train-x"][1:7] == ["train", "tiny", "lora", "48", "1,234", "2026-12-01 10:20"]
    assert rows["pipe"][1] == "run" and rows["pipe"][7] == "builtin 0.630"
    listing = tmp_path / "ls.json"
    r = runner.invoke(app, ["runs", "ls", str(root), "--json", "-o", str(listing)])
    assert r.exit_code == 0 and json.loads(r.output) == json.loads(listing.read_text(encoding="utf-8"))


# ---- mlflow -------------------------------------------------------------------------------------------

def test_report_to_mlflow_without_mlflow_installed_is_one_line_naming_the_extra(monkeypatch, tmp_path):
    import sys

    from mtsft.train.loop import mlflow_tracking

    monkeypatch.setitem(sys.modules, "mlflow", None)       # import mlflow raises ImportError
    with pytest.raises(ValueError, match=r"pip install 'mtsft\[mlflow\]'"), mlflow_tracking(tmp_path):
        pass


def test_mtsft_run_logs_its_scores_and_verdicts_to_a_local_mlflow_store(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from mtsft.run import log_to_mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = tmp_path / "run"
    (out / "train").mkdir(parents=True)
    summary = {"runs": ["base", "tuned"], "diagnosis": {"verdicts": {"crosstalk": "fires", "uneven": "ok"}},
               "rows": [{"suite": "builtin", "task": "math", "scores": [0.25, 0.5], "delta": 0.25},
                        {"suite": "builtin", "task": "macro", "scores": [0.3, None], "delta": None}]}
    run_id = log_to_mlflow(out, summary)
    assert "MLFLOW_TRACKING_URI" not in os.environ                 # put back: the next run gets its own store
    store = out / "train" / "mlruns"
    assert store.is_dir()
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    run = MlflowClient(store.as_uri()).get_run(run_id)
    data = run.data
    assert run.info.run_name == "run scores" and run.info.status == "FINISHED"
    assert data.metrics == {"base/builtin/math": 0.25, "tuned/builtin/math": 0.5, "change/builtin/math": 0.25,
                            "base/builtin/macro": 0.3}
    assert data.tags["verdict.crosstalk"] == "fires" and data.tags["verdict.uneven"] == "ok"


def test_report_to_mlflow_logs_every_stages_metrics_in_the_run_folder(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from mtsft.outputs import foreign_entries
    from mtsft.train.config import load_train_config
    from mtsft.train.loop import train

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({
        "id": str(i), "task": "open_qa", "lang": "en", "source": "t", "reference": None, "meta": {},
        "messages": [{"role": "user", "content": f"question {i}?"}, {"role": "assistant", "content": f"answer {i}"}]})
        + "\n" for i in range(12)))
    cfg = load_train_config(None, ["model=tiny", "precision=fp32", "threads=1", "max_length=64", "batch_size=2",
                                   "logging_steps=1", "max_steps=2", "eval.fraction=0", "report_to=[mlflow]",
                                   "stages=[{name: first, epochs: 1}, {name: second, epochs: 1, lr: 1e-4}]",
                                   f"data={data}", f"out={tmp_path / 'run'}"])
    train(cfg, log=lambda *_: None)
    store = tmp_path / "run" / "mlruns"
    assert store.is_dir() and foreign_entries(tmp_path / "run") == []     # listed: a rerun may replace it
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(store.as_uri())
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [r.info.run_name for r in runs] == ["run"] and runs[0].info.status == "FINISHED"
    logged = runs[0].data
    assert {"first/loss", "second/loss", "first/learning_rate"} <= set(logged.metrics)   # each stage's steps
    assert logged.params["model"] == "tiny" and logged.params["max_steps"] == "2"
    assert [m.step for m in client.get_metric_history(runs[0].info.run_id, "second/loss")] == [1, 2]
