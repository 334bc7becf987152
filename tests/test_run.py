"""`mtsft run`: data -> curate -> train -> eval base and tuned in one folder; finished stages are reused."""

from __future__ import annotations

import json
import shutil

import pytest

from mtsft.config import load_config
from mtsft.outputs import OutputRefused
from mtsft.run import STAGES, RunConfig, run_pipeline
from mtsft.runfiles import read_diagnosis

QUIET = lambda *_: None  # noqa: E731


def tiny_run_config(out, *sets):
    return load_config(RunConfig, "run-tiny", [f"out={out}", "n=60", "eval_n=12", "real_per_set=2",
                                               "eval.real_per_set=1", "train.max_steps=2", *sets])


def markers(out):
    return {s: json.loads((out / s / "stage.json").read_text())["key"] for s in STAGES if (out / s / "stage.json").exists()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One tiny run made once for the tests that read or rerun a finished run (a run is the slow part),
    with a pristine copy beside it."""
    root = tmp_path_factory.mktemp("shared-run")
    summary = run_pipeline(tiny_run_config(root / "run"), log=QUIET)
    shutil.copytree(root / "run", root / "pristine", symlinks=True)
    return root / "run", summary


@pytest.fixture
def run_dir(finished_run):
    """The shared run as it was when it finished, put back at its own path (stage keys hold absolute
    paths: a copy elsewhere would not be reused) for a test to rerun and change."""
    out = finished_run[0]
    shutil.rmtree(out)
    shutil.copytree(out.parent / "pristine", out, symlinks=True)
    return out


def test_run_writes_every_stage_and_a_summary_with_base_and_tuned_scores(run_dir, finished_run):
    out, summary = run_dir, finished_run[1]
    assert json.loads((out / "summary.json").read_text()) == summary
    for path in ("data/train.jsonl", "data/eval.jsonl", "curate/kept.jsonl", "curate/report.html",
                 "train/run.json", "eval_tuned/builtin/predictions.jsonl", "eval_base/builtin/scores.json"):
        assert (out / path).exists(), path
    assert set(markers(out)) == set(STAGES)
    assert 0 < summary["kept"] <= summary["inputs"] and summary["runs"] == ["base", "tuned"]
    builtin = [r for r in summary["rows"] if r["suite"] == "builtin"]
    assert builtin and all(len(r["scores"]) == 2 for r in builtin)
    trained = json.loads((out / "train" / "run.json").read_text())["config"]
    assert (trained["model"], trained["max_steps"], trained["data"]) == ("tiny", 2, str(out / "curate" / "kept.jsonl"))
    # the five problems close the summary: verdict, headline number, and for crosstalk and format the rate
    # over every judged output, which must lie between the best and the worst task's
    problems = {p["problem"]: p for p in summary["problems"]}
    assert set(problems) == {"uneven", "crosstalk", "format", "forgetting", "overfit"}
    diagnosis = json.loads((out / "diagnose" / "diagnosis.json").read_text())
    for finding in diagnosis["findings"]:
        if finding["problem"] in ("crosstalk", "format"):
            rates = [row["rate"] for row in finding["table"]]
            assert min(rates) <= problems[finding["problem"]]["overall"] <= max(rates)
    from rich.console import Console

    from mtsft.cli.render import problems_table
    console = Console(width=160, record=True)
    console.print(problems_table(summary["problems"]))
    printed = console.export_text()
    assert "crosstalk" in printed and "all outputs" in printed


def test_a_rerun_reuses_finished_stages_and_redoes_what_changed(run_dir):
    out = run_dir
    before = markers(out)
    logged = []
    run_pipeline(tiny_run_config(out), log=logged.append)
    assert markers(out) == before and sum("reusing" in str(m) for m in logged) == len(STAGES)
    # a diagnosis threshold is part of the diagnose stage's key only: every earlier stage is reused
    logged = []
    run_pipeline(tiny_run_config(out, "diagnosis.uneven.max_spread=0.3"), log=logged.append)
    changed = markers(out)
    assert changed["diagnose"] != before["diagnose"]
    assert {s: k for s, k in changed.items() if s != "diagnose"} == {s: k for s, k in before.items() if s != "diagnose"}
    assert sum("reusing" in str(m) for m in logged) == len(STAGES) - 1
    assert read_diagnosis(out / "diagnose")["config"]["uneven"]["max_spread"] == 0.3
    # a training change redoes training and the tuned eval, nothing upstream
    run_pipeline(tiny_run_config(out, "train.lr=5e-4"), log=QUIET)
    after = markers(out)
    assert after["data"] == before["data"] and after["curate"] == before["curate"]
    assert after["train"] != before["train"]
    assert after["eval_base"] == before["eval_base"] and after["eval_tuned"] != before["eval_tuned"]


def test_a_stage_without_its_marker_is_redone_and_force_redoes_one(run_dir):
    out = run_dir
    (out / "curate" / "stage.json").unlink()          # as if killed before it finished
    (out / "curate" / "kept.jsonl").write_text("half a line")
    logged = []
    run_pipeline(tiny_run_config(out, "force=[eval_base]"), log=logged.append)
    redone = {s for s in STAGES if any(f"== {s}" in str(m) for m in logged)}
    assert "curate" in redone and "eval_base" in redone and "data" not in redone
    assert json.loads((out / "curate" / "kept.jsonl").read_text().splitlines()[0])["messages"]


def test_run_refuses_a_folder_that_is_not_a_run_and_an_unknown_stage(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "old.txt").write_text("x")
    with pytest.raises(OutputRefused, match="mtsft did not write"):
        run_pipeline(tiny_run_config(tmp_path / "run"), log=QUIET)
    with pytest.raises(ValueError, match="not a stage"):
        run_pipeline(tiny_run_config(tmp_path / "other", "force=[evaluate]"), log=QUIET)


def test_run_config_composes_the_stage_configs_as_types():
    from mtsft.data.config import CurateConfig
    from mtsft.eval.evaluate import EvalRunConfig
    from mtsft.train.config import TrainConfig

    cfg = load_config(RunConfig, None, ["train.lr=1e-4", "curate.balance.temperature=2", "eval.per_task=3"])
    assert isinstance(cfg.curate, CurateConfig) and isinstance(cfg.train, TrainConfig)
    assert isinstance(cfg.eval, EvalRunConfig)
    assert (cfg.train.lr, cfg.curate.balance.temperature, cfg.eval.per_task) == (1e-4, 2.0, 3)


@pytest.mark.parametrize("item, top", [("train.model=tiny", "model"), ("train.seed=3", "seed"),
                                       ("train.data=mine.jsonl", "data"), ("train.out=elsewhere", "out"),
                                       ("eval.model=tiny", "model"), ("eval.adapter=runs/other", "model")])
def test_run_refuses_a_stage_field_it_sets_itself_before_any_work(tmp_path, item, top):
    """`--set train.model=...` and the like passed validation, then the run overwrote them silently."""
    from typer.testing import CliRunner

    from mtsft.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "--profile", "tiny", "--out", str(out), "--set", item],
                                terminal_width=400)
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "set it at the top level" in message and f"--set {top}=" in message and item.split("=")[0] in message
    assert not out.exists()                                          # refused before any work


def test_a_saved_run_config_still_loads_with_the_stage_fields_at_their_defaults(tmp_path):
    from mtsft.run import write_run_config

    cfg = tiny_run_config(tmp_path / "run", "model=tiny", "seed=4")
    saved = load_config(RunConfig, write_run_config(cfg, tmp_path))   # holds train.model, eval.adapter, ...
    assert saved.model_dump() == cfg.model_dump()


def test_the_runs_eval_defaults_hold_when_the_eval_section_is_partly_set():
    """The run re-defaults two eval fields (RunEvalConfig); setting another eval key must not undo them."""
    cfg = load_config(RunConfig, "run-demo", ["eval.batch_size=4"])
    assert (cfg.eval.batch_size, cfg.eval.max_new_tokens, cfg.eval.real_per_set) == (4, 96, 48)
    assert load_config(RunConfig, "run-demo", ["eval.max_new_tokens=null"]).eval.max_new_tokens is None


def test_replay_adds_general_records_at_its_share_of_the_training_set(tmp_path):
    from mtsft.records import read_records
    from mtsft.run import make_data

    folder = tmp_path / "data"
    folder.mkdir()
    cfg = load_config(RunConfig, None, ["n=60", "eval_n=12", "real=false", "replay=0.2"])
    counts = make_data(cfg, folder)
    train = read_records(folder / "train.jsonl")
    replayed = [r for r in train if (r.get("meta") or {}).get("replay")]
    assert counts["replay"] == len(replayed) == round(0.2 * 60 / 0.8)
    assert {r["lang"] for r in replayed} == {"en", "zh"}
    assert len({r["messages"][0]["content"] for r in replayed}) == len(replayed)


def test_your_files_join_the_synth_suite_and_your_held_out_file_is_scored_and_kept_out(tmp_path):
    from mtsft.records import read_records, write_jsonl

    def review(i, label):
        return {"id": f"r{i}", "task": "classification", "lang": "zh", "reference": {"label": label},
                "messages": [{"role": "user", "content": f"判断情感（正面/负面）：第{i}号酒店的房间{'很干净' if label == '正面' else '太脏了'}"},
                             {"role": "assistant", "content": label}]}

    train, held_out = tmp_path / "mine.jsonl", tmp_path / "mine_eval.jsonl"
    write_jsonl(train, [review(i, ("正面", "负面")[i % 2]) for i in range(20)])
    # two held-out records, one of them also in the training file: decontamination must drop the copy
    write_jsonl(held_out, [review(3, "负面"), review(100, "正面")])
    out = tmp_path / "run"
    summary = run_pipeline(tiny_run_config(out, f"data=[{train}]", "with_synth=true", f"eval_data=[{held_out}]"),
                           log=QUIET)
    trained_on = read_records(out / "data" / "train.jsonl")
    assert sum(r["id"].startswith("r") for r in trained_on) == 20 and len(trained_on) > 60  # synth joined in
    kept = {r["messages"][0]["content"] for r in read_records(out / "curate" / "kept.jsonl")}
    assert review(3, "负面")["messages"][0]["content"] not in kept
    yours = [r for r in summary["rows"] if r["suite"] == "yours"]
    assert [r["task"] for r in yours if r["task"] not in ("overall", "macro")] == ["classification"]
    assert all(len(r["scores"]) == 2 for r in yours)
    assert len(read_records(out / "eval_tuned" / "yours" / "predictions.jsonl")) == 2


def test_a_stage_in_its_own_process_gives_the_result_it_gives_in_this_one(run_dir, finished_run):
    """`stage_processes`: the diagnosis redone in a child process reads the same run and decides the same."""
    from mtsft.run import in_child

    cfg = tiny_run_config(run_dir, "stage_processes=true")
    result = in_child(cfg, run_dir, "diagnose", run_dir / "diagnose")
    assert result["verdicts"] == json.loads((run_dir / "diagnose" / "stage.json").read_text())["result"]["verdicts"]


def test_a_failing_stage_process_raises_its_error_here_with_its_type(tmp_path):
    from mtsft.run import in_child

    cfg = tiny_run_config(tmp_path / "run", "stage_processes=true")
    (tmp_path / "run" / "eval_seen").mkdir(parents=True)
    with pytest.raises(ValueError, match="kept.jsonl"):   # its own subclass of ValueError there
        in_child(cfg, tmp_path / "run", "eval_seen", tmp_path / "run" / "eval_seen")
