"""`train --select best|last` (issue 32.3): each saved checkpoint answers a held-out selection set; the best
macro score wins, ties to the better worst task; the report lists every checkpoint's scores beside its loss."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from mtsft.eval import evaluate as evaluate_module
from mtsft.tasks.synth import synth_records
from mtsft.train.config import load_train_config
from mtsft.train.loop import train
from mtsft.train.select import Candidate, CheckpointSelector, candidate_count, pick_best, selection_records

TASKS = ("math", "classification")   # built-in tasks: the selection set draws them


def write_records(path, n=24):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            task = TASKS[i % 2]
            messages = [{"role": "user", "content": f"{task} question {i}: " + "word " * (i % 5 + 1)},
                        {"role": "assistant", "content": f"{task} answer {i}"}]
            f.write(json.dumps({"id": str(i), "messages": messages, "task": task, "lang": "en",
                                "source": "test", "reference": None, "meta": {}}) + "\n")
    return path


def tiny_cfg(tmp_path, *extra):
    data = write_records(tmp_path / "data.jsonl")
    return load_train_config(None, ["model=tiny", "precision=fp32", "threads=1", "max_length=64", "batch_size=2",
                                    "logging_steps=1", "report_to=[]", "eval.fraction=0.2", "lr=1e-3",
                                    "save_steps=2", "max_steps=6", f"data={data}", f"out={tmp_path / 'run'}",
                                    *extra])


def plant_best_call(monkeypatch, best_call: int) -> list[int]:
    """Answers the selection set with its references on the `best_call`-th scoring, and with nothing
    otherwise: that checkpoint scores best whatever its loss. Returns the list of calls made."""
    calls = []

    def answers(model, tokenizer, records, cfg, tag_mode):
        calls.append(len(records))
        if len(calls) == best_call:
            return [r["messages"][-1]["content"] for r in records]
        return ["" for _ in records]

    monkeypatch.setattr(evaluate_module, "generate_answers", answers)
    return calls


def test_select_best_picks_the_planted_best_checkpoint(tmp_path, monkeypatch):
    calls = plant_best_call(monkeypatch, best_call=2)   # checkpoints at steps 2, 4, 6: step 4 is planted
    info = train(tiny_cfg(tmp_path, "save_total_limit=2"), log=lambda *_: None)
    run = tmp_path / "run"
    assert len(calls) == 3 and calls[0] >= 8 * len(TASKS)  # every candidate answered 8+ records per task
    sel = info["stages"]["main"]["selection"]
    assert sel["chosen_step"] == 4 and sel["chosen_checkpoint"].endswith("checkpoint-4")
    assert [c["step"] for c in sel["candidates"]] == [2, 4, 6]
    for c in sel["candidates"]:   # per-task scores beside per-task eval loss, for every checkpoint
        assert set(c["scores"]) == set(TASKS) and set(c["eval_loss"]) == set(TASKS)
    assert sel["candidates"][1]["macro"] > sel["candidates"][2]["macro"]
    assert sel["vs_end"]["diff"] > 0 and sel["vs_end"]["ci95"] is not None
    # the best checkpoint is what the run ends with; the rotation keeps it (and the newest), not step 2
    assert not (run / "stages" / "00-main" / "checkpoint-2").exists()
    best = load_file(run / "stages" / "00-main" / "checkpoint-4" / "adapter_model.safetensors")
    final = load_file(run / "model" / "adapter_model.safetensors")
    end = load_file(run / "stages" / "00-main" / "checkpoint-6" / "adapter_model.safetensors")
    assert best.keys() == final.keys()
    assert all((best[k] == final[k]).all() for k in best)
    assert any((end[k] != final[k]).any() for k in end)
    saved = json.loads((run / "run.json").read_text())
    assert saved["stages"]["main"]["selection"]["chosen_step"] == 4
    assert (run / "stages" / "00-main" / "selection" / "step-4" / "scores.json").exists()
    # a resume from checkpoint-4 reads back the candidates whose weights are still there (step 2 was rotated
    # away; step 6 comes after the checkpoint it resumes from)
    again = CheckpointSelector(None, [], load_train_config(None, []), run / "stages" / "00-main" / "selection",
                               is_main=False)
    again.reload(4)
    assert [(c.step, c.scores) for c in again.candidates] == [(4, sel["candidates"][1]["scores"])]
    assert again.candidates[0].eval_loss == pytest.approx(sel["candidates"][1]["eval_loss"], abs=1e-4)


def test_select_last_scores_nothing_and_keeps_the_end(tmp_path, monkeypatch):
    calls = plant_best_call(monkeypatch, best_call=1)
    info = train(tiny_cfg(tmp_path, "select=last"), log=lambda *_: None)
    assert calls == [] and "selection" not in info["stages"]["main"]


def test_one_candidate_costs_nothing():
    assert candidate_count(6, 50) == 1 and candidate_count(6, 2) == 3 and candidate_count(7, 2) == 4


def test_ties_go_to_the_better_worst_task():
    even = Candidate(2, "c2", {"a": 0.5, "b": 0.5}, [])
    lopsided = Candidate(4, "c4", {"a": 0.9, "b": 0.1}, [])
    assert pick_best([even, lopsided]) is even
    assert pick_best([even, Candidate(6, "c6", {"a": 0.6, "b": 0.5}, [])]).step == 6


def test_selection_set_has_eight_per_task_and_no_eval_prompt():
    cfg = load_train_config(None, [])
    records = selection_records(["math", "chitchat", "not_a_builtin_task"], cfg)
    assert sorted({r["task"] for r in records}) == ["chitchat", "math"]
    assert all(sum(r["task"] == t for r in records) == 8 for t in ("math", "chitchat"))  # chitchat: few prompts
    key = lambda r: tuple(m["content"] for m in r["messages"] if m["role"] != "assistant")  # noqa: E731
    draws = [(1, 192)] + [(cfg.seed + 1, n) for n in (24, 288, 576)]  # eval run's; mtsft run's eval_n sizes
    eval_prompts = {key(r) for seed, n in draws for r in synth_records(n, seed=seed, clean=True, eval_split=True)}
    assert not eval_prompts & {key(r) for r in records}
    assert all(r["meta"]["held_out"] for r in records)


@pytest.mark.parametrize("value", ["7"])
def test_select_per_task_under_eight_is_refused(value):
    with pytest.raises(ValueError, match="per_task"):
        load_train_config(None, [f"selection.per_task={value}"])


def test_the_avoided_eval_draws_are_the_ones_mtsft_run_and_eval_run_make():
    import yaml

    from mtsft.config import resolve_recipe, shipped_recipes
    from mtsft.eval.evaluate import EvalRunConfig
    from mtsft.run import RunConfig
    from mtsft.tasks.synth import TASK_WEIGHTS

    avoided = set(load_train_config(None, []).selection.avoid_eval_n)
    sizes = {RunConfig().eval_n} | {(yaml.safe_load(resolve_recipe(name, "run").read_text()) or {}).get(
        "eval_n", RunConfig().eval_n) for name in shipped_recipes("run")}
    assert sizes <= avoided
    defaults = EvalRunConfig()
    assert (defaults.seed, defaults.per_task * len(defaults.langs) * len(TASK_WEIGHTS)) == (1, 192)
