"""Configs and run folders that make no sense are refused before any work, in one line naming the key or
the path; a start that fails is marked failed and does not block the next start."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import typing
from pathlib import Path

import annotated_types as at
import pytest
from curate_fakes import fake_registry, generate  # noqa: F401  (fixture)
from pydantic import BaseModel

from mtsft.config import ConfigError, load_config
from mtsft.data.config import CurateConfig
from mtsft.data.curate import curate, curate_files
from mtsft.records import MANIFEST, write_jsonl
from mtsft.train.config import TrainConfig

# Fields whose meaning is a share, a probability or a similarity: they must be capped at 1 too.
UNIT_INTERVAL = ("threshold", "tolerance", "min_score", "fraction", "replay", "dropout", "warmup_ratio")


def numeric_fields(model: type[BaseModel], prefix: str = ""):
    for name, info in model.model_fields.items():
        key = f"{prefix}{info.alias or name}"
        ann = info.annotation
        args = [a for a in typing.get_args(ann) if a is not type(None)] or [ann]
        sub = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if sub:
            yield from numeric_fields(sub[0], key + ".")
        elif any(a in (int, float) for a in args):
            yield key, info


def bounds(info) -> tuple[bool, bool]:
    lower = any(isinstance(m, (at.Ge, at.Gt)) for m in info.metadata)
    upper = any(isinstance(m, (at.Le, at.Lt)) for m in info.metadata)
    return lower, upper


@pytest.mark.parametrize("key, info", list(numeric_fields(CurateConfig)), ids=lambda x: x if isinstance(x, str) else "")
def test_every_numeric_curation_field_has_its_range(key, info):
    lower, upper = bounds(info)
    assert lower, f"{key} has no lower bound"
    if key.rsplit(".", 1)[-1].endswith(UNIT_INTERVAL):
        assert upper, f"{key} is a share or similarity without an upper bound of 1"


TRAIN_FIELDS = [(k, i) for k, i in numeric_fields(TrainConfig) if k != "seed"]  # seed: see the note below


@pytest.mark.parametrize("key, info", TRAIN_FIELDS, ids=lambda x: x if isinstance(x, str) else "")
def test_every_numeric_training_field_has_its_range(key, info):
    lower, upper = bounds(info)
    assert lower, f"{key} has no lower bound"
    if key.rsplit(".", 1)[-1].endswith(UNIT_INTERVAL):
        assert upper, f"{key} is a share without an upper bound"


@pytest.mark.parametrize("override, key", [
    ("dedup.bands=0", "dedup.bands"), ("quality.max_tokens=-1", "quality.max_tokens"),
    ("dedup.threshold=-1", "dedup.threshold"), ("dedup.threshold=1.5", "dedup.threshold"),
    ("classify.threshold=2", "classify.threshold"), ("dedup.num_perm=0", "dedup.num_perm"),
    ("balance.max_upsample=0.5", "balance.max_upsample"), ("validate.tolerance=-0.1", "validate.tolerance"),
    ("dedup.bands=300", "dedup"),  # more bands than signature rows
])
def test_nonsense_curation_values_are_refused_naming_the_key(override, key):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        load_config(CurateConfig, None, [override])


def test_curate_cli_refuses_bad_bands_before_reading_anything(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "q", "output": "a"}\n')
    proc = subprocess.run([sys.executable, "-m", "mtsft", "data", "curate", str(src), "--out", str(tmp_path / "o"),
                           "--set", "dedup.bands=0"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "dedup.bands" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_curation_that_keeps_nothing_fails_and_writes_no_manifest(fake_registry, tmp_path):  # noqa: F811
    src = tmp_path / "in.jsonl"
    write_jsonl(src, generate({"sentiment": 6, "coding": 6}))
    cfg = CurateConfig.model_validate({"progress": False, "quality": {"max_tokens": 1}})
    result = curate([json.loads(x) for x in src.read_text().splitlines()], cfg, log=None)
    assert not result.kept and not result.ok
    assert result.checks[0].name == "kept" and not result.checks[0].ok
    with pytest.raises(ValueError, match="nothing kept"):
        curate_files([str(src)], cfg, tmp_path / "out", log=None)
    assert (tmp_path / "out" / "rejected.jsonl").read_text().count("\n") == 12  # the diagnosis stays
    assert not (tmp_path / "out" / MANIFEST).exists()


# ---- mtsft train: checks before torch ------------------------------------------------------------------

CLI_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from mtsft.cli import app
t1 = time.perf_counter()
code = 0
try:
    app(args=sys.argv[1:], prog_name="mtsft")
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "torch": "torch" in sys.modules, "check_s": time.perf_counter() - t1,
                  "import_s": t1 - t0}))
"""


def train_cli(*args: str) -> tuple[dict, str]:
    proc = subprocess.run([sys.executable, "-c", CLI_CHILD, "train", *args], capture_output=True, text=True,
                          timeout=180)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nmtsft train {' '.join(args)}: {out}\n{proc.stderr.strip()}")
    return out, proc.stderr


@pytest.fixture
def data_file(tmp_path) -> str:
    path = tmp_path / "data.jsonl"
    write_jsonl(path, [{"id": str(i), "messages": [{"role": "user", "content": f"q{i}"},
                                                   {"role": "assistant", "content": f"a{i}"}], "task": None}
                       for i in range(4)])
    return str(path)


def test_train_typo_is_reported_in_well_under_a_second_without_torch(tmp_path, data_file):
    out, err = train_cli("--data", data_file, "--out", str(tmp_path / "run"), "--set", "lrr=1e-4")
    assert out["code"] == 2 and "unknown key 'lrr'" in err
    assert not out["torch"], "torch was imported before the config was checked"
    assert out["check_s"] < 1.0
    assert not (tmp_path / "run").exists()


def test_train_typo_from_a_fresh_process_fails_fast(tmp_path, data_file):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mtsft", "train", "--data", data_file, "--set", "epochs=-1",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=180)
    seconds = time.perf_counter() - start
    print(f"\nwhole command, interpreter start included: {seconds:.2f} s")
    assert proc.returncode == 2 and "'epochs'" in proc.stderr
    assert seconds < 8  # was 10 s of torch import before the check, on an idle machine


def test_train_refuses_a_non_empty_folder_that_is_not_a_run(tmp_path, data_file):
    run = tmp_path / "mine"
    run.mkdir()
    (run / "config.yaml").write_text("precious: true\n")
    out, err = train_cli("--data", data_file, "--out", str(run))
    # the output rule refuses it before the run checks look for run.json
    assert out["code"] == 2 and "mtsft did not write" in err and str(run) in err
    assert not out["torch"]
    assert (run / "config.yaml").read_text() == "precious: true\n"


def test_train_out_that_is_a_file_is_one_line_naming_it(tmp_path, data_file):
    target = tmp_path / "afile"
    target.write_text("x")
    out, err = train_cli("--data", data_file, "--out", str(target))
    assert out["code"] == 2 and str(target) in err and "is a file" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_train_out_inside_a_file_is_an_os_error_in_one_line(tmp_path, data_file):
    target = tmp_path / "afile"
    target.write_text("x")
    out, err = train_cli("--data", data_file, "--out", str(target / "run"))
    assert out["code"] == 2 and str(target) in err and "Not a directory" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs sysfs (a folder no one may create in)")
def test_train_out_where_writing_is_not_permitted_is_one_line_naming_it(data_file):
    out, err = train_cli("--data", data_file, "--out", "/sys/mtsft-reliability-run")
    assert out["code"] == 2 and "/sys/mtsft-reliability-run" in err
    assert ("not permitted" in err or "Permission denied" in err or "Read-only" in err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_train_data_folder_or_missing_file_is_refused_before_torch(tmp_path):
    out, err = train_cli("--data", str(tmp_path), "--out", str(tmp_path / "run"))
    assert out["code"] == 2 and "is a folder" in err and not out["torch"]
    out, err = train_cli("--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "run"))
    assert out["code"] == 2 and "data file not found" in err and not out["torch"]


def test_failed_start_is_marked_failed_and_the_next_start_may_reuse_the_folder(tmp_path, data_file):
    from mtsft.train.loop import train
    from mtsft.train.runinfo import RunInfo, check_run_dir

    run = tmp_path / "run"
    cfg = TrainConfig(model=str(tmp_path / "no-such-model"), data=data_file, out=str(run), max_steps=1)
    with pytest.raises(Exception):
        train(cfg, log=lambda *_: None)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and info["failed_at"] == "startup" and info["error"]
    check_run_dir(run, resume=False)  # the next plain start is not refused ...
    RunInfo(run).begin(cfg, resume=False)
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert "error" not in json.loads((run / "run.json").read_text())


def test_a_run_that_failed_in_a_stage_still_needs_resume(tmp_path):
    from mtsft.outputs import claim_folder
    from mtsft.runfiles import write_run_info
    from mtsft.train.runinfo import check_run_dir

    run = tmp_path / "run"
    claim_folder(run)  # as a run makes its folder: an mtsft folder whose list names run.json once written
    write_run_info(run, {"status": "failed", "failed_at": "main", "stages": {"main": {"status": "running"}}})
    with pytest.raises(ValueError, match="--resume"):
        check_run_dir(run, resume=False)
    check_run_dir(run, resume=True)
