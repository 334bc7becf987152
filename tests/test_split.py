"""`mtsft train --split-by task|family` (issue 32.1): one LoRA adapter per part, each with a replay share of
the others, in OUT/<part>/; `mtsft merge OUT` combines them into a run eval loads."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mtsft.train.config import load_train_config
from mtsft.train.epochs import epoch_draws
from mtsft.train.split import part_config, split_parts, train_split

TASKS = ("open_qa", "reading_comprehension", "math")   # families: knowledge, knowledge, reasoning


def write_records(path, n=36):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            task = TASKS[i % 3]
            messages = [{"role": "user", "content": f"{task} question {i}: " + "word " * (i % 5 + 1)},
                        {"role": "assistant", "content": f"{task} answer {i}"}]
            f.write(json.dumps({"id": str(i), "messages": messages, "task": task, "lang": "en",
                                "source": "test", "reference": None, "meta": {}}) + "\n")
    return path


def tiny_cfg(tmp_path, *extra):
    data = write_records(tmp_path / "data.jsonl")
    return load_train_config(None, ["model=tiny", "precision=fp32", "threads=1", "max_length=64", "batch_size=4",
                                    "logging_steps=1", "report_to=[]", "eval.fraction=0.1", "max_steps=2",
                                    "select=last", f"data={data}", f"out={tmp_path / 'split'}", *extra])


def test_parts_by_task_and_by_registry_family():
    assert split_parts(list(TASKS) + ["mine"], "task") == {t: [t] for t in sorted([*TASKS, "mine"])}
    assert split_parts(list(TASKS) + ["mine"], "family") == {
        "knowledge": ["open_qa", "reading_comprehension"], "mine": ["mine"], "reasoning": ["math"]}


def test_each_part_trains_its_tasks_with_its_replay_share_of_the_others(tmp_path):
    cfg = tiny_cfg(tmp_path, "split_replay=0.25")
    stage = part_config(cfg, ["math"], tmp_path / "split" / "math").stage_list()[0]
    tasks = [TASKS[i % 3] for i in range(36)]
    drawn = [tasks[i] for group in epoch_draws(tasks, stage, seed=0, epoch=0) for i, _ in group]
    assert drawn.count("math") == 12 and len(drawn) - 12 == 3    # 25% of the part's 12, from the others


def test_split_by_family_trains_one_run_per_family_and_merge_takes_the_folder(tmp_path):
    from mtsft.cli import app
    from mtsft.model import load_for_inference

    results = train_split(tiny_cfg(tmp_path), "family", log=lambda *_: None)
    assert list(results) == ["knowledge", "reasoning"]
    for part, tasks in (("knowledge", ["open_qa", "reading_comprehension"]), ("reasoning", ["math"])):
        info = json.loads((tmp_path / "split" / part / "run.json").read_text())
        assert info["status"] == "completed" and info["config"]["stages"][0]["tasks"] == tasks
        assert info["config"]["stages"][0]["replay"] == 0.1          # split_replay's default
        assert (tmp_path / "split" / part / "model" / "adapter_model.safetensors").exists()
    with pytest.raises(ValueError, match="already holds a split"):
        train_split(tiny_cfg(tmp_path), "family", log=lambda *_: None)
    out = tmp_path / "merged"
    r = CliRunner().invoke(app, ["merge", str(tmp_path / "split"), "--method", "ties", "-o", str(out)])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "run.json").read_text())
    assert info["tasks"] == sorted(TASKS) and info["merge"]["density"] == 0.5
    load_for_inference("builtin", out, log=lambda *_: None)       # what eval run --adapter and serve do


def test_split_of_one_task_is_refused(tmp_path):
    cfg = tiny_cfg(tmp_path)
    one = tmp_path / "one.jsonl"
    one.write_text("".join(line + "\n" for line in (tmp_path / "data.jsonl").read_text().splitlines()[::3]))
    with pytest.raises(ValueError, match="nothing to split"):
        train_split(cfg.model_copy(update={"data": str(one)}), "task", log=lambda *_: None)


def test_split_cli_refuses_an_unknown_split_and_the_launcher(tmp_path):
    from mtsft.cli import app

    data = write_records(tmp_path / "data.jsonl")
    base = ["train", "--data", str(data), "-o", str(tmp_path / "split"), "--set", "model=tiny"]
    bad = CliRunner().invoke(app, [*base, "--split-by", "language"])
    assert bad.exit_code == 2 and "use task or family" in bad.output
    launched = CliRunner().invoke(app, [*base, "--split-by", "task", "--nproc", "2"])
    assert launched.exit_code == 2 and "one process" in launched.output
