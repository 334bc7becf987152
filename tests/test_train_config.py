"""Config validation, one-line CLI errors, the method rule and precision choice."""

import pytest
import yaml
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.config import ConfigError
from mtsft.train.config import TrainConfig, load_train_config
from mtsft.train.method import choose_method


@pytest.mark.parametrize("name", ["lora", "full", "qlora", "staged"])
def test_shipped_recipes_load(name):
    # each recipe's keys reach the config, and each lists only what differs from the code defaults
    from mtsft.config import resolve_recipe

    recipe = yaml.safe_load(resolve_recipe(name, "train").read_text(encoding="utf-8"))
    cfg, default = load_train_config(name).model_dump(), TrainConfig().model_dump()
    assert recipe and all(cfg[key] != default[key] for key in recipe), name
    assert all(cfg[key] == value for key, value in recipe.items() if not isinstance(value, (dict, list))), name
    assert cfg["method"] == {"full": "full", "qlora": "qlora"}.get(name, "lora")
    assert len(cfg["stages"] or []) == (3 if name == "staged" else 0)


def test_a_stray_recipe_copy_in_the_current_folder_does_not_shadow_the_shipped_one(tmp_path, monkeypatch):
    # `-c full.yaml` run from a folder holding a full.yaml of its own read that copy first (issue 31)
    (tmp_path / "full.yaml").write_text("method: lora\nepochs: 7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for spec in ("full", "full.yaml"):
        assert (load_train_config(spec).method, load_train_config(spec).epochs) == ("full", 2), spec
    assert load_train_config("./full.yaml").epochs == 7           # a path separator: the file
    (tmp_path / "mine.yaml").write_text("epochs: 5\n", encoding="utf-8")
    assert load_train_config("mine.yaml").epochs == 5             # no shipped recipe of that name: the file


def test_train_run_and_accelerate_recipes_have_their_own_folders_and_names():
    from mtsft.config import load_config, resolve_recipe
    from mtsft.run import RunConfig

    assert resolve_recipe("lora", "train").parent.name == "train"
    assert load_config(RunConfig, "full").model != "builtin" and load_train_config("full").method == "full"
    assert load_config(RunConfig, "demo") == load_config(RunConfig, "run-demo") == load_config(RunConfig, "run/demo")
    assert load_config(RunConfig, "tiny").model == "tiny"
    assert resolve_recipe("accelerate/ddp") == resolve_recipe("ddp", "accelerate")
    assert resolve_recipe("accelerate/ddp").parent.name == "accelerate"
    with pytest.raises(ConfigError, match="no shipped recipe"):
        load_config(RunConfig, "lora")                            # a train recipe is not a run profile


def test_a_recipe_is_found_by_name_by_file_name_and_by_path(tmp_path):
    from mtsft.config import resolve_recipe, shipped_recipes

    assert {"lora", "full", "qlora", "staged", "accelerate/fsdp", "run/demo"} <= set(shipped_recipes("train"))
    assert load_train_config("lora.yaml") == load_train_config("lora")
    own = tmp_path / "mine.yaml"
    own.write_text("method: full\n", encoding="utf-8")
    assert load_train_config(str(own)).method == "full"
    assert resolve_recipe("accelerate/ddp").read_text(encoding="utf-8").startswith("#")


def test_an_unknown_recipe_name_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match=r"no shipped recipe of that name \(shipped: .*lora"):
        load_train_config("lroa")


def test_typed_values_apply_after_override_strings_and_none_skips():
    cfg = load_train_config("lora", ["lr=1e-4", "out=a"], {"out": "runs/x: y", "lr": None})
    assert (cfg.lr, cfg.out) == (1e-4, "runs/x: y")


def test_overrides_set_nested_keys_with_types():
    cfg = load_train_config("lora", ["lr=1e-4", "method=full", "lora.r=8"])
    assert (cfg.lr, cfg.method, cfg.lora.r) == (1e-4, "full", 8)


def test_unknown_key_is_a_one_line_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"unknown key 'lora.rank'") as e:
        load_train_config("lora", ["lora.rank=8"])
    assert "\n" not in str(e.value)


def test_bad_value_is_a_one_line_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"'task_tags'") as e:
        load_train_config(None, ["task_tags=suffix"])
    assert "\n" not in str(e.value)


def test_cli_config_errors_print_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["train", "--set", "lr=fast", "--data", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and "'lr'" in lines[0]


def test_cli_missing_data_file_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "data file not found" in result.output
    assert not (tmp_path / "r" / "run.json").exists()


def test_auto_method_picks_lora_for_small_data():
    method, why = choose_method("auto", n_records=500, n_tasks=12, n_params=135_000_000)
    assert method == "lora" and "500 records" in why


def test_auto_method_picks_full_for_large_multitask_data_when_memory_allows():
    method, _ = choose_method("auto", n_records=20_000, n_tasks=12, n_params=135_000_000, memory_bytes=16 * 2**30)
    assert method == "full"


def test_auto_method_falls_back_to_lora_when_full_does_not_fit():
    method, why = choose_method("auto", n_records=20_000, n_tasks=12, n_params=7_000_000_000,
                                memory_bytes=16 * 2**30)
    assert method == "lora" and "GiB" in why


def test_explicit_method_is_kept():
    assert choose_method("full", n_records=10, n_tasks=1, n_params=1)[0] == "full"


def test_qlora_without_cuda_says_so(monkeypatch):
    import torch

    from mtsft.train.build import qlora_available

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    ok, why = qlora_available()
    assert not ok and "CUDA" in why and "lora" in why
