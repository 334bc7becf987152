"""Issue 28, a yardstick that can decide: base and tuned compared on paired differences, crosstalk and format
decided on the rise over base, the noise a lever must beat (seed difference and paired sampling error), and
the base model's eval scored once for every run that shares its model, records and eval config."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mtsft import runfiles
from mtsft.diagnose import stats
from mtsft.diagnose.config import DiagnoseConfig
from mtsft.diagnose.inputs import EvalSide, RunInputs
from mtsft.diagnose.problems import crosstalk, format_confusion, uneven

QUIET = lambda *_: None  # noqa: E731


def rows(task: str, scores, *, crossed=(), violating=(), side="tuned") -> list[dict]:
    """Prediction rows of one task, record i answering prompt i (the same ids on both sides)."""
    out = []
    for i, score in enumerate(scores):
        prompt = f"prompt {i}"
        out.append({"id": f"{task}-{i}", "task": task, "lang": "en", "suite": "builtin", "prompt": prompt,
                    "prediction": f"{side} answer {i}", "reference": "r", "score": float(score), "metric": "m",
                    "violations": ["bad_format"] if i in violating else [],
                    "looks_like": "open_qa" if i in crossed else task,
                    "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": "r"}]})
    return out


def inputs(base_rows, tuned_rows) -> RunInputs:
    return RunInputs(None, EvalSide(None, base_rows), EvalSide(None, tuned_rows))


def looks_like_cfg() -> DiagnoseConfig:
    cfg = DiagnoseConfig(perplexity=False)
    cfg.crosstalk.judge = "looks_like"    # the rows carry their truth in `looks_like`
    return cfg


# ---- 1. paired comparisons -----------------------------------------------------------------------------

def scores_of(values) -> dict:
    """scores.json of one task's per-record scores."""
    cell = {"n": len(values), "score": float(np.mean(values)), "ci95": stats.mean_ci(values)}
    return {"tasks": {"math": cell}, "overall": cell}


# 24 prompts of very different difficulty
DIFFICULTY = np.linspace(0.05, 0.8, 24)
JITTER = np.random.default_rng(0).normal(0, 0.01, 24)


def test_paired_interval_excludes_zero_where_the_unpaired_one_does_not(tmp_path):
    from mtsft.diagnose.compare import compare_runs

    base, tuned = DIFFICULTY, DIFFICULTY + 0.08 + JITTER          # tuning adds 0.08 on every prompt
    _, paired = stats.paired_mean_diff(base, tuned)
    unpaired = stats.diff_ci(tuned, base)
    assert paired[0] > 0.05 and unpaired[0] < 0 < unpaired[1]     # the constructed case

    # the side-by-side table (eval --compare, mtsft run's summary) reads the paired one from predictions
    for name, scores in (("base", base), ("tuned", tuned)):
        runfiles.write_predictions(tmp_path / name / "builtin", rows("math", scores, side=name))
        runfiles.write_scores(tmp_path / name / "builtin", scores_of(scores))
    table = {(r["suite"], r["task"]): r for r in compare_runs([tmp_path / "base", tmp_path / "tuned"])}
    for task in ("math", "overall", "macro"):
        row = table[("builtin", task)]
        assert row["paired"] and row["decided"] and row["delta_ci"][0] > 0.05, (task, row)
        assert row["delta"] == pytest.approx(0.08 + JITTER.mean())

    # per-record scores missing on one side: the unpaired interval, and the row says so
    runfiles.write_scores(tmp_path / "old" / "builtin", scores_of(base))
    row = next(r for r in compare_runs([tmp_path / "old", tmp_path / "tuned"]) if r["task"] == "math")
    assert row["paired"] is False and not row["decided"] and row["delta_ci"][0] < 0

    from rich.console import Console

    from mtsft.cli.render import compare_table
    console = Console(width=200, record=True)
    console.print(compare_table(compare_runs([tmp_path / "old", tmp_path / "tuned"]), ["old", "tuned"]))
    assert " u" in console.export_text()


def test_a_verdict_threshold_is_decided_on_the_paired_interval():
    """Tuning costs every prompt 0.15 (threshold 0.10): the paired interval of base - tuned lies above the
    threshold; resampling each side alone would leave it undecided."""
    base, tuned = DIFFICULTY + 0.2, DIFFICULTY + 0.05 + JITTER
    finding = uneven(inputs(rows("math", base, side="base"), rows("math", tuned)), looks_like_cfg())
    drop = next(c for c in finding.checks if c.name == "tuned below base")
    assert drop.status == "fires" and drop.ci[0] > drop.threshold
    assert finding.table[0]["paired"] is True
    assert stats.diff_ci(base, tuned)[0] < drop.threshold                  # unpaired: not decided


# ---- 3. crosstalk and format as the rise over base -------------------------------------------------------

def test_crosstalk_and_format_at_the_base_rate_are_ok():
    """base 0.3, tuned 0.3 on the same prompts (the judge errs the same way for both), threshold 0.1: ok."""
    same = range(12)                                                         # 12 of 40 = 0.3
    base = rows("translation", [0.5] * 40, crossed=same, violating=same, side="base")
    tuned = rows("translation", [0.5] * 40, crossed=same, violating=same)
    for finding in (crosstalk(inputs(base, tuned), looks_like_cfg()), format_confusion(inputs(base, tuned), looks_like_cfg())):
        check = finding.checks[0]
        assert "rise over base" in check.name and check.threshold == pytest.approx(0.1)
        assert check.value == pytest.approx(0.0) and check.status == "ok", finding.problem
        row = finding.table[0]
        assert row["rate"] == pytest.approx(0.3) and row["base_rate"] == pytest.approx(0.3)   # shown beside it


def test_crosstalk_and_format_rising_from_zero_to_half_fire():
    """base 0.0, tuned 0.5 on the same prompts: the rise (0.5) fires."""
    base = rows("translation", [0.5] * 40, side="base")
    tuned = rows("translation", [0.5] * 40, crossed=range(20), violating=range(20))
    for finding in (crosstalk(inputs(base, tuned), looks_like_cfg()), format_confusion(inputs(base, tuned), looks_like_cfg())):
        check = finding.checks[0]
        assert check.value == pytest.approx(0.5) and check.status == "fires", finding.problem
        assert finding.table[0]["paired"] and finding.table[0]["status"] == "fires"


def test_the_report_shows_the_absolute_rates_beside_the_rise():
    from mtsft.diagnose.diagnose import Diagnosis
    from mtsft.diagnose.report import verdict_rows

    base = rows("translation", [0.5] * 40, crossed=range(12), side="base")
    tuned = rows("translation", [0.5] * 40, crossed=range(20))
    run = inputs(base, tuned)
    findings = [crosstalk(run, looks_like_cfg())]
    summary = verdict_rows(Diagnosis(run, findings, [], looks_like_cfg()))[1]
    assert "crosstalk rise over base 20.0%" in summary[2] and "base 30.0% → tuned 50.0%" in summary[2]


# ---- 5. honest noise -------------------------------------------------------------------------------------

def version_with_crossed(tmp_path, name: str, crossed: int, changes=()):
    """An iterate version whose crosstalk was measured on 24 outputs: `crossed` of them cross, none of
    the base model's answers to the same prompts did."""
    from mtsft.iterate import Version

    base = rows("translation", [0.5] * 24, side="base")
    tuned = rows("translation", [0.5] * 24, crossed=range(crossed))
    finding = crosstalk(inputs(base, tuned), looks_like_cfg())
    return Version(name, tmp_path, {"rows": []}, {"findings": [finding.to_dict()]}, changes=list(changes))


LEVER = [{"problem": "crosstalk", "lever": "task tags", "changes": []}]


def test_with_24_outputs_8_to_9_crossed_is_within_noise(tmp_path):
    from mtsft.iterate import credits, noise

    first, twin = version_with_crossed(tmp_path, "v0.1", 8), version_with_crossed(tmp_path, "v0.1-seed1", 8)
    eps = noise(first, twin)
    assert eps["crosstalk"] > 1 / 24                      # the seeds agree; the paired sampling error remains
    after = version_with_crossed(tmp_path, "v0.2", 9, LEVER)
    assert [c["verdict"] for c in credits([first, after], eps)] == ["within noise"]


def test_with_24_outputs_12_to_4_is_credited(tmp_path):
    from mtsft.iterate import credits, noise

    first, twin = version_with_crossed(tmp_path, "v0.1", 12), version_with_crossed(tmp_path, "v0.1-seed1", 11)
    eps = noise(first, twin)
    after = version_with_crossed(tmp_path, "v0.2", 4, LEVER)
    assert [c["verdict"] for c in credits([first, after], eps)] == ["helped"]


def test_the_noise_combines_the_seed_difference_and_the_paired_sampling_error(tmp_path):
    """Seeds 0.10 apart and a sampling error of 0.10: the noise is sqrt(0.1^2 + 0.1^2) = 0.141, so a move
    of 0.12 (larger than either alone) is within noise."""
    from mtsft.iterate import PROBLEMS, Version, credits, noise

    def version(name, value, changes=()):
        findings = [{"problem": p, "status": "fires", "checks": [{"name": "x", "value": value, "ci": [value - 0.1,
                                                                                                  value + 0.1]}]}
                    for p in PROBLEMS]
        return Version(name, tmp_path, {"rows": []}, {"findings": findings}, changes=list(changes))

    eps = noise(version("v0.1", 0.5), version("v0.1-seed1", 0.4))
    assert eps["crosstalk"] == pytest.approx(math.hypot(0.1, 0.1))
    moved = version("v0.2", 0.38, LEVER)
    assert [c["verdict"] for c in credits([version("v0.1", 0.5), moved], eps)] == ["within noise"]


def test_the_seed_twin_answers_the_very_same_eval_records(tmp_path):
    from mtsft.config import load_config
    from mtsft.iterate import twin_config
    from mtsft.run import RunConfig, make_data

    cfg = load_config(RunConfig, None, ["n=24", "eval_n=24", "real=false", "seed=3"])
    twin = twin_config(cfg, 1)
    assert twin.seed == 4
    files = {}
    for name, c in (("v0.1", cfg), ("twin", twin)):
        (tmp_path / name).mkdir()
        make_data(c, tmp_path / name)
        files[name] = {f: (tmp_path / name / f).read_bytes() for f in ("eval.jsonl", "train.jsonl")}
    assert files["v0.1"]["eval.jsonl"] == files["twin"]["eval.jsonl"]       # the very same eval records
    assert files["v0.1"]["train.jsonl"] != files["twin"]["train.jsonl"]     # trained on another draw


# ---- 2. the base model's eval, scored once ----------------------------------------------------------------

def test_a_second_run_with_another_train_config_reuses_the_base_eval(tmp_path, monkeypatch):
    import mtsft.eval.evaluate as evaluate
    import mtsft.run as run
    from mtsft.config import load_config

    monkeypatch.setattr(run, "base_eval_cache", lambda: tmp_path / "cache")
    generated = []
    real_generate = evaluate.generate_answers

    def counting(model, tokenizer, records, cfg, tag_mode):
        generated.append(cfg.adapter)
        return real_generate(model, tokenizer, records, cfg, tag_mode)

    monkeypatch.setattr(evaluate, "generate_answers", counting)

    def config(out, *sets):
        return load_config(run.RunConfig, "run-tiny", [f"out={out}", "n=60", "eval_n=12", "real_per_set=2",
                                                       "eval.real_per_set=1", "train.max_steps=2", "diagnose=false",
                                                       "seen_per_task=0", *sets])

    run.run_pipeline(config(tmp_path / "a"), log=QUIET)
    assert None in generated                                    # the base model answered once
    generated.clear()
    logged = []
    run.run_pipeline(config(tmp_path / "b", "train.lr=5e-4"), log=logged.append)
    assert None not in generated and generated                  # only the tuned model generated
    assert any("eval_base" in str(m) and "reusing" in str(m) for m in logged)
    for suite in ("builtin", "real"):
        a = runfiles.read_predictions(tmp_path / "a" / "eval_base" / suite)
        assert a and a == runfiles.read_predictions(tmp_path / "b" / "eval_base" / suite)
