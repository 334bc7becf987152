"""The curation pipeline end to end: accounting, determinism, outputs, CLI (fake registry)."""

from __future__ import annotations

import copy
import json

import pytest
from curate_fakes import fake_registry, generate  # noqa: F401  (fixture)
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.data.config import ClassifyConfig, CurateConfig
from mtsft.data.curate import curate, curate_files
from mtsft.records import write_jsonl


def _config(**kw) -> CurateConfig:
    return CurateConfig(progress=False, classify=ClassifyConfig(train_per_task_lang=40), **kw)


def _messy() -> list[dict]:
    recs = generate({"sentiment": 120, "coding": 20, "ideas": 30})
    dup = copy.deepcopy(recs[0])
    dup["id"] = "dup"
    empty = copy.deepcopy(recs[1])
    empty["id"], empty["messages"][1]["content"] = "empty", ""
    unlabeled = copy.deepcopy(recs[125])
    unlabeled["id"], unlabeled["task"] = "unlabeled", None
    return recs + [dup, empty, unlabeled]


def test_every_input_is_kept_or_rejected(fake_registry):
    recs = _messy()
    res = curate(recs, _config(), log=None)
    assert len(recs) == len(res.kept) - res.upsampled + len(res.rejected)


def test_rejected_records_carry_round_and_reason(fake_registry):
    res = curate(_messy(), _config(), log=None)
    reasons = {r["id"]: (r["meta"]["rejected"]["round"], r["meta"]["rejected"]["reason"]) for r in res.rejected}
    assert reasons["dup"] == ("dedup", "exact_duplicate") and reasons["empty"] == ("quality", "empty")


def test_unlabeled_record_gets_a_task_confidence_and_method(fake_registry):
    recs = generate({"sentiment": 30, "coding": 30})
    recs[-1]["task"] = None
    res = curate(recs, _config(balance={"strategy": "proportional"}), log=None)
    meta = next(r for r in res.kept if r["id"] == recs[-1]["id"])
    assert meta["task"] == "coding" and meta["meta"]["curate"]["task_method"] in ("model", "signals+model")


def test_callers_records_are_not_modified(fake_registry):
    recs = _messy()
    before = json.dumps(recs, sort_keys=True)
    curate(recs, _config(), log=None)
    assert json.dumps(recs, sort_keys=True) == before


def test_same_input_and_seed_give_identical_kept_file(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, _messy())
    curate_files([str(src)], _config(), tmp_path / "a", log=None)
    curate_files([str(src)], _config(), tmp_path / "b", log=None)
    assert (tmp_path / "a" / "kept.jsonl").read_bytes() == (tmp_path / "b" / "kept.jsonl").read_bytes()


def test_curate_files_writes_every_output(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, _messy())
    curate_files([str(src)], _config(), tmp_path / "out", log=None)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"kept.jsonl", "rejected.jsonl", "review.jsonl", "manifest.json", "report.md", "report.html"} <= names


def test_manifest_counts_add_up_and_name_input_hashes(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, _messy())
    curate_files([str(src)], _config(), tmp_path / "out", log=None)
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["inputs"] == m["kept_original"] + m["rejected"] and len(m["input_files"][0]["sha256"]) == 64


def test_report_html_embeds_plots(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, _messy())
    curate_files([str(src)], _config(), tmp_path / "out", log=None)
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 3 and "Round: dedup" in page


def test_unreadable_lines_are_counted_as_rejected(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, generate({"sentiment": 20, "coding": 20}))
    with open(src, "a") as f:
        f.write("{not json\n")
    res = curate_files([str(src)], _config(), tmp_path / "out", log=None)
    assert res.inputs == 41 and res.rejected[0]["meta"]["rejected"]["round"] == "read"


def test_cli_curate_exits_nonzero_when_validation_fails(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, generate({"sentiment": 40, "coding": 10}))
    result = CliRunner().invoke(app, ["data", "curate", str(src), "--out", str(tmp_path / "o"),
                                      "--set", "classify.train_per_task_lang=40", "--set", "validate.min_per_task=100"])
    assert result.exit_code == 1 and "min_per_task" in result.output


def test_cli_curate_with_a_recipe_file_and_a_strategy_flag(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, generate({"sentiment": 90, "coding": 10, "ideas": 30}))
    recipe = tmp_path / "curate.yaml"
    recipe.write_text("balance:\n  strategy: temperature\n  temperature: 2.0\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["data", "curate", str(src), "--out", str(tmp_path / "o"), "--config",
                                      str(recipe), "--strategy", "uniform", "--set",
                                      "classify.train_per_task_lang=40", "--set", "progress=false"])
    assert result.exit_code == 0, result.output
    kept = [json.loads(x) for x in (tmp_path / "o" / "kept.jsonl").read_text().splitlines()]
    counts = {t: sum(r["task"] == t for r in kept) for t in ("sentiment", "coding", "ideas")}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_cli_curate_rejects_unknown_config_key(fake_registry, tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, generate({"sentiment": 5}))
    result = CliRunner().invoke(app, ["data", "curate", str(src), "--out", str(tmp_path / "o"), "--set", "dedup.bogus=1"])
    assert result.exit_code == 2 and "dedup.bogus" in result.output


@pytest.mark.parametrize("command", ["analyze", "classify"])
def test_cli_analyze_and_classify_run(fake_registry, tmp_path, command):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, generate({"sentiment": 20, "coding": 5}))
    extra = ["--out", str(tmp_path / "a.html")] if command == "analyze" else ["--out", str(tmp_path / "c.jsonl")]
    result = CliRunner().invoke(app, ["data", command, str(src)] + extra)
    assert result.exit_code == 0, result.output


def test_records_leaking_into_eval_files_are_dropped(fake_registry, tmp_path):
    recs = generate({"sentiment": 30, "coding": 30})
    leak = copy.deepcopy(recs[0])
    leak["id"], leak["messages"][0]["content"] = "leak", "Classify the sentiment of this exact sentence: a quiet museum at dawn."
    src, evals = tmp_path / "in.jsonl", tmp_path / "eval.jsonl"
    write_jsonl(src, recs + [leak])
    write_jsonl(evals, [leak])
    res = curate_files([str(src)], _config(), tmp_path / "out", eval_files=[str(evals)], log=None)
    leaked = {r["id"] for r in res.rejected if r["meta"]["rejected"]["reason"] == "contaminated"}
    assert leaked == {"leak"}
