"""End-to-end runs on the tiny model: LoRA, full, staged, resume after SIGKILL, export."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mtsft.config import dump_config
from mtsft.train.config import load_train_config
from mtsft.train.loop import train

TASKS = ("alpha", "beta", "gamma")


def write_records(path, n=48):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            task = TASKS[i % 3]
            messages = [{"role": "user", "content": f"{task} question {i}: " + "word " * (i % 7 + 1)},
                        {"role": "assistant", "content": f"{task} answer {i} " + "yes " * (i % 5 + 1)}]
            if i % 4 == 0:
                messages += [{"role": "user", "content": "more?"}, {"role": "assistant", "content": "sure, more."}]
            f.write(json.dumps({"id": str(i), "messages": messages, "task": task, "lang": "en",
                                "source": "test", "reference": None, "meta": {}}) + "\n")
    return path


BASE = ["model=tiny", "precision=fp32", "threads=1", "max_length=128", "batch_size=2", "logging_steps=1",
        "report_to=[]", "eval.fraction=0.1", "save_steps=3", "lr=1e-3"]


def tiny_cfg(tmp_path, *extra, recipe=None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = write_records(tmp_path / "data.jsonl")
    return load_train_config(recipe, BASE + [f"data={data}", f"out={tmp_path / 'run'}", *extra])


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory):
    """One 4-step LoRA run shared by the tests that only read it (training is the slow part): (its folder,
    the folder it was configured in, train's result)."""
    root = tmp_path_factory.mktemp("lora")
    info = train(tiny_cfg(root, "max_steps=4"), log=lambda *_: None)
    return root / "run", root, info


def test_lora_run_writes_run_json_metrics_and_adapter(lora_run):
    run, _, info = lora_run
    saved = json.loads((run / "run.json").read_text())
    assert saved["status"] == "completed" and saved["method"] == "lora"
    assert saved["data"]["sha256"] and saved["versions"]["torch"]
    assert 0 < saved["params"]["trainable_share"] < 0.05
    assert (run / "model" / "adapter_model.safetensors").exists()
    assert info["metrics"]["sec_per_1k_tokens"] > 0 and info["metrics"]["peak_memory_mb"] > 0


def test_per_task_train_and_eval_losses_are_logged(lora_run):
    rows = (lora_run[0] / "task_loss.csv").read_text().splitlines()
    seen = {tuple(r.split(",")[2:4]) for r in rows[1:]}
    assert seen == {(split, t) for split in ("train", "eval") for t in TASKS}


def test_full_recipe_runs_and_saves_a_full_model(tmp_path):
    cfg = tiny_cfg(tmp_path, "max_steps=2", "lr=1e-4", recipe="full")
    info = train(cfg, log=lambda *_: None)
    assert info["method"] == "full" and info["params"]["trainable_share"] == 1.0
    assert (tmp_path / "run" / "model" / "model.safetensors").exists()


def test_staged_recipe_runs_every_stage_in_one_run_directory(tmp_path):
    cfg = tiny_cfg(tmp_path, "stages=[{name: mixed, epochs: 1}, {name: focus, epochs: 1, lr: 1e-4, "
                             "tasks: [alpha], replay: 0.2}]", "max_steps=2")
    info = train(cfg, log=lambda *_: None)
    assert [info["stages"][s]["status"] for s in ("mixed", "focus")] == ["done", "done"]
    assert (tmp_path / "run" / "stages" / "00-mixed" / "final").is_dir()
    assert (tmp_path / "run" / "stages" / "01-focus" / "final").is_dir()


def test_existing_run_is_not_overwritten_without_resume(lora_run):
    run, root, _ = lora_run
    before = (run / "run.json").read_text()
    with pytest.raises(ValueError, match="--resume"):
        train(tiny_cfg(root, "max_steps=1"), log=lambda *_: None)
    assert (run / "run.json").read_text() == before


def _cli(args, env_extra=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)


def test_resume_after_sigkill_ends_with_the_same_final_loss(tmp_path):
    steps = ["max_steps=8", "epochs=3"]
    reference = train(tiny_cfg(tmp_path / "ref", *steps), log=lambda *_: None)

    cfg = tiny_cfg(tmp_path / "killed", *steps)
    config = tmp_path / "killed.yaml"
    config.write_text(yaml.safe_dump(dump_config(cfg)), encoding="utf-8")
    killed = _cli([str(Path(__file__).parent / "faults.py"), str(config), "5"])
    assert killed.returncode == -9, killed.stderr[-2000:]
    run = tmp_path / "killed" / "run"
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert (run / "stages" / "00-main" / "checkpoint-3").is_dir()

    resumed = _cli(["-m", "mtsft", "train", "--resume", "--out", str(run)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    final = json.loads((run / "run.json").read_text())
    assert final["status"] == "completed" and final["resumed"] == 1
    assert final["metrics"]["final_loss"] == pytest.approx(reference["metrics"]["final_loss"], abs=1e-4)


def test_export_merge_writes_a_plain_model_that_transformers_loads(lora_run, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from mtsft.export import export_run

    out = export_run(lora_run[0], tmp_path / "merged", log=lambda *_: None)
    assert not (out / "adapter_config.json").exists()
    model = AutoModelForCausalLM.from_pretrained(out)
    with torch.no_grad():
        assert model(torch.tensor([[1, 2, 3]])).logits.shape[-1] == model.config.vocab_size
