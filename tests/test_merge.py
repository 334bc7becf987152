"""`mtsft merge` (issue 32.1): LoRA runs combined through PEFT's add_weighted_adapter into a run like any other."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from mtsft.train.merge import MergeConfig, combine, merge_runs

LAYER0_Q = "base_model.model.model.layers.0.self_attn.q_proj"


def lora_run(path, *, seed: int, r: int, alpha: int, tasks: list[str], task_tags: str = "none"):
    """A finished LoRA run on the tiny model (random A and B, no training: merging reads only the weights)."""
    from peft import LoraConfig, get_peft_model

    from mtsft.model import load_model, load_tokenizer
    from mtsft.runfiles import write_run_info

    torch.manual_seed(seed)
    model = get_peft_model(load_model("tiny", log=lambda *_: None),
                           LoraConfig(r=r, lora_alpha=alpha, target_modules=["q_proj", "v_proj"],
                                      init_lora_weights=False, task_type="CAUSAL_LM"))
    model.save_pretrained(path / "model")
    load_tokenizer("tiny", log=lambda *_: None).save_pretrained(path / "model")
    write_run_info(path, {"status": "completed", "config": {"model": "tiny", "task_tags": task_tags},
                          "method": "lora", "tasks": tasks, "metrics": {"train_seconds": 2.0}})
    return path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("parts")
    return (lora_run(root / "math", seed=1, r=2, alpha=4, tasks=["math"]),
            lora_run(root / "code", seed=2, r=4, alpha=4, tasks=["code"]))


def factors(folder, module=LAYER0_Q):
    weights = load_file(folder / "adapter_model.safetensors")
    return weights[f"{module}.lora_A.weight"], weights[f"{module}.lora_B.weight"]


def test_cat_merge_equals_the_concatenated_low_rank_factors(two_runs, tmp_path):
    a, b = two_runs
    info = merge_runs([a, b], MergeConfig(method="cat", weights=[0.7, 1.3], out=str(tmp_path / "m")),
                      log=lambda *_: None)
    (a_A, a_B), (b_A, b_B) = factors(a / "model"), factors(b / "model")
    m_A, m_B = factors(tmp_path / "m" / "model")
    # PEFT folds weight x scaling (alpha / r) into A and stacks: rank 2 + 4, merged scaling 1
    assert torch.equal(m_A, torch.cat([a_A * 0.7 * (4 / 2), b_A * 1.3 * (4 / 4)], dim=0))
    assert torch.equal(m_B, torch.cat([a_B, b_B], dim=1))
    config = json.loads((tmp_path / "m" / "model" / "adapter_config.json").read_text())
    assert config["r"] == 6 and config["lora_alpha"] == 6
    assert info["tasks"] == ["code", "math"] and info["merge"]["method"] == "cat"
    assert info["metrics"]["train_seconds"] == 4.0 and info["metrics"]["adapter_bytes"] > 0


def test_a_merged_run_loads_like_a_training_run(two_runs, tmp_path):
    """eval/serve load it with load_for_inference; the merged delta is the weighted sum of the parts' deltas."""
    from mtsft.model import load_for_inference, load_model, run_weights

    a, b = two_runs
    merge_runs([a, b], MergeConfig(method="cat", out=str(tmp_path / "m")), log=lambda *_: None)
    assert run_weights(tmp_path / "m")[1] == "tiny"
    merged, _ = load_for_inference("builtin", tmp_path / "m", log=lambda *_: None)
    base = load_model("tiny", log=lambda *_: None)
    delta = (merged.model.layers[0].self_attn.q_proj.weight - base.model.layers[0].self_attn.q_proj.weight)
    (a_A, a_B), (b_A, b_B) = factors(a / "model"), factors(b / "model")
    assert torch.allclose(delta, 2 * a_B @ a_A + 1 * b_B @ b_A, atol=1e-5)


def toy_pair():
    """A PEFT model on one 3 -> 2 linear layer with two rank-2 adapters (scaling alpha / r = 1)."""
    from peft import LoraConfig, get_peft_model

    toy = torch.nn.Sequential()
    toy.add_module("lin", torch.nn.Linear(3, 2, bias=False))
    config = LoraConfig(r=2, lora_alpha=2, target_modules=["lin"])
    model = get_peft_model(toy, config, adapter_name="one")
    model.add_adapter("two", config)
    lin = model.base_model.model.lin
    lin.lora_A["one"].weight.data = torch.tensor([[3.0, -1.0, 0.5], [-2.0, 0.2, 0.9]])
    lin.lora_A["two"].weight.data = torch.tensor([[1.0, 2.0, -4.0], [0.1, -3.0, 0.3]])
    lin.lora_B["one"].weight.data = torch.tensor([[0.5, -3.0], [2.0, 0.1]])
    lin.lora_B["two"].weight.data = torch.tensor([[-1.0, 0.4], [-0.2, 5.0]])
    return model, lin


def test_ties_merge_of_a_small_matrix_equals_the_hand_computation():
    model, lin = toy_pair()
    combine(model, ["one", "two"], [1.0, 4.0], MergeConfig(method="ties", density=0.5), name="m")
    # PEFT's ties works on each factor: adapter weight x scaling split as sqrt over A and B (here 1 and 2).
    # A, trim to the 3 largest |x| of 6:  a -> [[3,-1,0],[-2,0,0]]   b -> [[0,2,-4],[0,-3,0]]
    #    elect the sign of the trimmed sum [[3,1,-4],[-2,-3,0]]: [[+,+,-],[-,-,+]]
    #    disjoint mean of the agreeing, b weighted x2: [[3, 4, -8], [-2, -6, 0]]   (a's -1 disagrees)
    expected_A = torch.tensor([[3.0, 4.0, -8.0], [-2.0, -6.0, 0.0]])
    # B, trim to the 2 largest of 4:  a -> [[0,-3],[2,0]]   b -> [[-1,0],[0,5]]
    #    signs of the sum [[-1,-3],[2,5]]: [[-,-],[+,+]]; each entry has one agreeing value: b's x2
    expected_B = torch.tensor([[-2.0, -3.0], [2.0, 10.0]])
    assert torch.allclose(lin.lora_A["m"].weight, expected_A)
    assert torch.allclose(lin.lora_B["m"].weight, expected_B)
    assert lin.scaling["m"] == 1.0
    assert torch.allclose(lin.get_delta_weight("m"), expected_B @ expected_A)


def test_dare_merges_repeat_with_the_same_seed():
    results = []
    for seed in (3, 3, 4):
        model, lin = toy_pair()
        combine(model, ["one", "two"], [1.0, 1.0], MergeConfig(method="dare_ties", density=0.5, seed=seed), name="m")
        results.append(lin.lora_A["m"].weight.detach().clone())
    assert torch.equal(results[0], results[1]) and not torch.equal(results[0], results[2])


def test_merge_refuses_runs_that_cannot_merge(two_runs, tmp_path):
    a, b = two_runs
    with pytest.raises(ValueError, match="one rank"):
        merge_runs([a, b], MergeConfig(method="linear", out=str(tmp_path / "m")), log=lambda *_: None)
    with pytest.raises(ValueError, match="--weights: 1 given for 2 runs"):
        merge_runs([a, b], MergeConfig(method="cat", weights=[1.0], out=str(tmp_path / "m")), log=lambda *_: None)
    tagged = lora_run(tmp_path / "tagged", seed=3, r=2, alpha=4, tasks=["x"], task_tags="system")
    with pytest.raises(ValueError, match="task_tags"):
        merge_runs([a, tagged], MergeConfig(method="cat", out=str(tmp_path / "m")), log=lambda *_: None)


def test_merge_cli_takes_a_split_folder_and_writes_a_run(two_runs, tmp_path):
    from mtsft.cli import app

    split = two_runs[0].parent          # the folder holding both parts, as `train --split-by` writes it
    out = tmp_path / "merged"
    r = CliRunner().invoke(app, ["merge", str(split), "--method", "cat", "--weights", "1,0.5", "-o", str(out)])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "run.json").read_text())
    assert [p["run"] for p in info["merge"]["parts"]] == [str(split / "code"), str(split / "math")]
    assert info["merge"]["weights"] == [1.0, 0.5] and (out / "config.yaml").exists()
    bad = CliRunner().invoke(app, ["merge", str(split), "--method", "nope", "-o", str(out)])
    assert bad.exit_code == 2
