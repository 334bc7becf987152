"""`mtsft run` chains synth -> curate -> train -> generate -> score into one run folder."""

from __future__ import annotations

import json

import pytest

from mtsft.config import load_config
from mtsft.run import RunConfig, run_pipeline


def tiny_run_config(out, **extra):
    return load_config(RunConfig, None, [f"out={out}", "model=tiny", "n=120", "eval_n=12", "eval.max_new_tokens=8", "eval.bootstrap=50",
                                         "train.max_steps=2", "train.batch_size=2",
                                         "train.max_length=256",
                                         *[f"{k}={v}" for k, v in extra.items()]])


def test_run_writes_every_stage_and_a_summary_with_base_and_tuned_scores(tmp_path):
    summary = run_pipeline(tiny_run_config(tmp_path / "run"), log=lambda *_: None)
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk == summary
    for path in ("data/raw.jsonl", "data/eval.jsonl", "curated/kept.jsonl", "curated/report.html",
                 "train/run.json", "eval/tuned/predictions.jsonl", "eval/base/scores.json"):
        assert (tmp_path / "run" / path).exists(), path
    assert summary["inputs"] == 120 and 0 < summary["kept"] <= 120
    assert set(summary["per_task"]) == {"base", "tuned"}
    assert all(0.0 <= s <= 1.0 for s in summary["per_task"]["tuned"].values())
    trained = json.loads((tmp_path / "run" / "train" / "run.json").read_text())["config"]
    assert (trained["model"], trained["max_steps"], trained["data"]) == ("tiny", 2, str(tmp_path / "run" / "curated" / "kept.jsonl"))


def test_run_config_composes_the_stage_configs_as_types():
    from mtsft.data.config import CurateConfig
    from mtsft.train.config import TrainConfig

    cfg = load_config(RunConfig, None, ["train.lr=1e-4", "curate.balance.temperature=2"])
    assert isinstance(cfg.curate, CurateConfig) and isinstance(cfg.train, TrainConfig)
    assert (cfg.train.lr, cfg.curate.balance.temperature) == (1e-4, 2.0)


def test_run_refuses_to_mix_with_an_earlier_run_unless_told(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "old.txt").write_text("x")
    with pytest.raises(FileExistsError, match="--overwrite"):
        run_pipeline(tiny_run_config(tmp_path / "run"), log=lambda *_: None)
