"""Issue 25, deliverable 5: configs refused before work, in one line.

Every numeric field of every config refuses non-finite and out-of-range values when the config is built,
before a model loads or a curation round runs; the error is one line that names the key and where the
value came from (the recipe file and line, the `--set` item, or the command's option).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import mtsft.data.config  # noqa: F401  (each import registers its config classes as StrictConfig subclasses)
import mtsft.diagnose.config  # noqa: F401
import mtsft.eval.evaluate  # noqa: F401
import mtsft.iterate  # noqa: F401
import mtsft.mixture  # noqa: F401
import mtsft.run  # noqa: F401
import mtsft.train.config  # noqa: F401
from mtsft.config import MAX_NUMBER, ConfigError, StrictConfig, load_config
from mtsft.records import write_jsonl

# ---- the CLI examples of the issue -----------------------------------------------------------------------

# The command line in a child process that says whether torch was imported before it exited: a refusal
# "before any work" means before the model (and torch) load.
CLI_CHILD = r"""
import json, sys
from mtsft.cli import app
code = 0
try:
    app(args=sys.argv[1:], prog_name="mtsft")
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "torch": "torch" in sys.modules}))
"""


def mtsft_cli(*args: str) -> tuple[dict, str, str]:
    proc = subprocess.run([sys.executable, "-c", CLI_CHILD, *args], capture_output=True, text=True, timeout=180)
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]), "\n".join(lines[:-1]), proc.stderr


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture
def records_file(tmp_path):
    path = tmp_path / "data.jsonl"
    write_jsonl(path, [{"id": str(i), "task": "sentiment" if i % 2 else "coding", "lang": "en",
                        "messages": [{"role": "user", "content": f"question {i}"},
                                     {"role": "assistant", "content": f"answer {i}"}]} for i in range(8)])
    return path


def refused_train(tmp_path, records_file, *args: str) -> str:
    run = tmp_path / "run"
    result, out, err = mtsft_cli("train", "--data", str(records_file), "--out", str(run), *args)
    assert result["code"] == 2
    assert not result["torch"], "torch (and the model) loaded before the config was refused"
    assert not run.exists(), "the run folder was made before the config was refused"
    return one_line_error(err)


def test_epochs_inf_is_refused_before_the_model_loads(tmp_path, records_file):
    line = refused_train(tmp_path, records_file, "--set", "epochs=inf")
    assert "--set epochs=inf" in line and "'epochs'" in line and "finite" in line


def test_epochs_1e308_is_refused_before_the_model_loads(tmp_path, records_file):
    line = refused_train(tmp_path, records_file, "--set", "epochs=1e308")
    assert "--set epochs=1e308" in line and "'epochs'" in line and "less than or equal to 100" in line


def test_lr_1e300_is_refused_naming_the_recipe_line(tmp_path, records_file):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("method: lora\nlr: 1e300\nepochs: 1\n", encoding="utf-8")
    line = refused_train(tmp_path, records_file, "-c", str(recipe))
    assert f"{recipe}, line 2" in line and "'lr'" in line


def test_lr_1e300_from_set_is_refused(tmp_path, records_file):
    line = refused_train(tmp_path, records_file, "--set", "lr=1e300")
    assert "--set lr=1e300" in line and "'lr'" in line


def refused_curate(tmp_path, records_file, *args: str) -> str:
    out_dir = tmp_path / "curated"
    result, out, err = mtsft_cli("data", "curate", str(records_file), "--out", str(out_dir), *args)
    assert result["code"] == 2
    assert not out_dir.exists(), "curation wrote output before the config was refused"
    assert "classify" not in out and "quality" not in out, f"a curation round ran:\n{out}"
    return one_line_error(err)


@pytest.mark.parametrize("weight", ["-1", "nan"])
def test_curation_weight_is_refused_before_any_round(tmp_path, records_file, weight):
    line = refused_curate(tmp_path, records_file, "--weights", f"sentiment={weight},coding=1")
    assert "--weights" in line and "'balance.weights.sentiment'" in line


@pytest.mark.parametrize("weight", ["-1", ".nan", "inf"])
def test_curation_weight_from_set_is_refused_before_any_round(tmp_path, records_file, weight):
    line = refused_curate(tmp_path, records_file, "--set", "balance.strategy=weights",
                          "--set", f"balance.weights.coding={weight}")
    assert f"--set balance.weights.coding={weight}" in line and "'balance.weights.coding'" in line


def test_curation_weights_all_zero_are_refused_before_any_round(tmp_path, records_file):
    line = refused_curate(tmp_path, records_file, "--weights", "sentiment=0,coding=0")
    assert "every weight is 0" in line


@pytest.mark.parametrize("threshold", ["2", "-0.5", "nan", "inf"])
def test_classify_bad_threshold_is_one_line(tmp_path, records_file, threshold):
    out = tmp_path / "classified.jsonl"
    result, _, err = mtsft_cli("data", "classify", str(records_file), "--out", str(out), "--threshold", threshold)
    assert result["code"] == 2 and not out.exists()
    line = one_line_error(err)
    assert "--threshold" in line and "'threshold'" in line and "pydantic" not in line


def test_iterate_bad_rounds_is_one_line(tmp_path):
    result, _, err = mtsft_cli("iterate", "--profile", "tiny", "--rounds", "0", "--out", str(tmp_path / "it"))
    assert result["code"] == 2 and not result["torch"] and not (tmp_path / "it").exists()
    assert "--rounds" in one_line_error(err)


# ---- every numeric field of every config class -----------------------------------------------------------

def config_classes() -> list[type[StrictConfig]]:
    seen: list[type[StrictConfig]] = []
    todo = list(StrictConfig.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen and cls.__module__.startswith("mtsft."):
            seen.append(cls)
        todo += cls.__subclasses__()
    return sorted(seen, key=lambda c: c.__name__)


def _leaves(annotation) -> list:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _leaves(args[0])
    return [leaf for a in args for leaf in _leaves(a)] if args else [annotation]


def numeric_keys(cls: type[BaseModel]) -> list[str]:
    """Each numeric field as a `--set` key; a {name: number} field as one of its entries."""
    keys = []
    for name, info in cls.model_fields.items():
        key = info.alias or name
        origin = typing.get_origin(info.annotation)
        args = [a for a in typing.get_args(info.annotation) if a is not type(None)]
        if any(typing.get_origin(a) is dict for a in args) or origin is dict:
            keys.append(f"{key}.sentiment")
        elif any(leaf in (int, float) for leaf in _leaves(info.annotation)):
            keys.append(key)
    return keys


REQUIRED = {"TrainStage": ["name=s"]}  # fields without a default
FIELDS = [(cls, key) for cls in config_classes() for key in numeric_keys(cls)]
BAD = ["nan", ".nan", "inf", "-inf", ".inf", "-1", "1e300", "1e308", str(10**30), str(MAX_NUMBER + 1)]


def test_the_sweep_covers_every_config_class():
    names = {cls.__name__ for cls, _ in FIELDS}
    for expected in ("TrainConfig", "TrainStage", "LoraSettings", "EvalConfig", "MixtureConfig", "CurateConfig",
                     "ClassifyConfig", "QualityConfig", "DedupConfig", "BalanceConfig", "DiagnoseConfig",
                     "LeverConfig", "EvalRunConfig", "RunConfig", "IterateConfig"):
        assert expected in names
    assert len(FIELDS) > 80


@pytest.mark.parametrize("cls, key", FIELDS, ids=[f"{c.__name__}.{k}" for c, k in FIELDS])
def test_every_numeric_field_refuses_nan_inf_negative_and_huge(cls, key):
    for bad in BAD:
        item = f"{key}={bad}"
        with pytest.raises(ConfigError) as e:
            load_config(cls, None, [*REQUIRED.get(cls.__name__, []), item])
        msg = str(e.value)
        assert "\n" not in msg and f"--set {item}" in msg and f"'{key.split('.')[0]}" in msg, msg


@pytest.mark.parametrize("cls", config_classes(), ids=lambda c: c.__name__)
def test_every_config_class_builds_with_its_defaults(cls):
    load_config(cls, None, REQUIRED.get(cls.__name__, []))


def _limits(cls, key: str) -> tuple[float, float, bool, bool]:
    import annotated_types as at

    name = key.split(".")[0]
    info = next(i for n, i in cls.model_fields.items() if (i.alias or n) == name)
    metadata = list(info.metadata)
    for a in typing.get_args(info.annotation):
        metadata += list(getattr(a, "__metadata__", ())) + [m for x in typing.get_args(a)
                                                          for m in getattr(x, "__metadata__", ())]
    lo, hi, lo_open, hi_open = -math.inf, math.inf, False, False
    for m in metadata:
        for kind in (getattr(m, "metadata", None) or [m]):
            if isinstance(kind, at.Ge):
                lo = max(lo, kind.ge)
            elif isinstance(kind, at.Gt):
                lo, lo_open = max(lo, kind.gt), True
            elif isinstance(kind, at.Le):
                hi = min(hi, kind.le)
            elif isinstance(kind, at.Lt):
                hi, hi_open = min(hi, kind.lt), True
    return lo, min(hi, MAX_NUMBER), lo_open, hi_open


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=st.one_of(st.floats(), st.integers(min_value=-2**70, max_value=2**70)))
def test_any_number_is_either_kept_within_its_range_or_refused_in_one_line(field, value):
    cls, key = field
    try:
        cfg = load_config(cls, None, REQUIRED.get(cls.__name__, []), {key: value})
    except ConfigError as e:  # a check across fields (bands <= num_perm) names the config as a whole
        assert "\n" not in str(e) and (f"'{key.split('.')[0]}" in str(e) or "'(top level)'" in str(e)), str(e)
        return
    kept = cfg
    for part in key.split("."):
        kept = kept[part] if isinstance(kept, dict) else getattr(kept, "validate_" if part == "validate" else part)
    lo, hi, lo_open, hi_open = _limits(cls, key)
    assert math.isfinite(kept) and abs(kept) <= MAX_NUMBER
    assert (kept > lo if lo_open else kept >= lo) and (kept < hi if hi_open else kept <= hi), (key, kept)


def test_nested_keys_are_named_in_full():
    from mtsft.run import RunConfig

    with pytest.raises(ConfigError, match=r"--set train\.stages.*'train\.stages\.0\.lr'") as e:
        load_config(RunConfig, None, ["train.stages=[{name: a, lr: .inf}]"])
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match=r"'curate\.balance\.weights\.coding'.*finite"):
        load_config(RunConfig, None, ["curate.balance.weights={coding: .nan, sentiment: 1}"])


def test_assignment_is_checked_too():
    from mtsft.train.config import TrainConfig

    cfg = TrainConfig()
    with pytest.raises(ValueError):
        cfg.epochs = math.inf
    with pytest.raises(ValueError):
        cfg.batch_size = 10**12
    assert cfg.epochs == 1.0 and cfg.batch_size == 8


@pytest.mark.parametrize("args, flag", [
    (["data", "curate", "{data}", "--out", "{tmp}/o", "--workers", "0"], "--workers"),
    (["serve", "--batch-wait-ms", "inf"], "--batch-wait-ms"),
    (["chat", "--temperature", "nan"], "--temperature"),
    (["data", "curate", "{data}", "--out", "{tmp}/o", "--wrokers", "2"], "--wrokers"),
])
def test_a_bad_command_line_option_is_one_line_too(tmp_path, records_file, args, flag):
    """Options the command line itself checks (ranges, names) were a boxed panel under the usage text."""
    args = [a.format(data=records_file, tmp=tmp_path) for a in args]
    result, _, err = mtsft_cli(*args)
    assert result["code"] == 2 and not result["torch"] and not (tmp_path / "o").exists()
    line = one_line_error(err)
    assert flag in line and "--help" in line
