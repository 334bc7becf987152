"""Diagnosis on synthetic runs whose truth is known (mtsft.diagnose.synthetic): each of the five problems
injected at 1.5x its threshold fires, five clean runs raise no verdict at all, and every verdict is decided
on intervals rather than point values."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mtsft.diagnose import DiagnoseConfig, diagnose_run
from mtsft.diagnose.problems import PROBLEMS, decide
from mtsft.diagnose.synthetic import INJECTIONS, PROBLEM_OF, write_synthetic_run


def quiet(*_):
    pass


def cfg(**kw) -> DiagnoseConfig:
    c = DiagnoseConfig(**kw)
    c.crosstalk.judge = "looks_like"      # the synthetic rows carry their truth in `looks_like`
    return c


def run(path, **kw):
    return diagnose_run(path, cfg=cfg(), log=quiet, **kw)


@pytest.mark.parametrize("inject", INJECTIONS)
def test_each_problem_injected_at_1_5x_its_threshold_fires_and_only_it(tmp_path, inject):
    d = run(write_synthetic_run(tmp_path / "run", inject=inject, level=1.5))
    problem = PROBLEM_OF[inject]
    assert d.fired() == [problem], {f.problem: f.status for f in d.findings}
    f = d.finding(problem)
    fired = f.fired_checks()
    assert len(fired) == 1
    check = fired[0]
    # the measured number is the injected one: 1.5x the threshold (within sampling noise)
    assert check.value == pytest.approx(1.5 * check.threshold, rel=0.08)
    if check.ci is not None:
        assert check.ci[0] > check.threshold
    truth = json.loads((tmp_path / "run" / "truth.json").read_text())
    if problem in ("crosstalk", "format", "overfit") and inject != "overfit.share":
        assert check.task == truth["target"]
    assert any(lv.problem == problem for lv in d.levers)


@pytest.mark.parametrize("variant", range(5))
def test_clean_runs_raise_no_verdict_at_all(tmp_path, variant):
    d = run(write_synthetic_run(tmp_path / "run", variant=variant))
    assert d.fired() == []
    # not merely "not fired": every problem was measured and every interval lies below its threshold
    assert {f.problem: f.status for f in d.findings} == {p: "ok" for p in PROBLEMS}
    assert d.levers == []


@pytest.mark.parametrize("inject", ["uneven.spread", "crosstalk", "format", "forgetting.ppl", "overfit.gap", "overfit.seen"])
def test_half_the_threshold_does_not_fire(tmp_path, inject):
    d = run(write_synthetic_run(tmp_path / "run", inject=inject, level=0.5))
    assert d.fired() == []


def test_verdicts_are_decided_on_intervals_not_point_values(tmp_path):
    # 1.5x the crosstalk threshold on 40 records: the point value is above it, the interval is not
    d = run(write_synthetic_run(tmp_path / "run", inject="crosstalk", level=1.5, n=40))
    check = d.finding("crosstalk").checks[0]
    assert check.value > check.threshold and check.ci[0] < check.threshold
    assert check.status == "undecided" and "crosstalk" not in d.fired()
    assert decide(0.2, (0.15, 0.25), 0.1) == "fires"
    assert decide(0.05, (0.01, 0.09), 0.1) == "ok"
    assert decide(0.12, (0.05, 0.2), 0.1) == "undecided"
    assert decide(None, None, 0.1) == "n/a"


def test_thresholds_are_typed_config(tmp_path):
    from mtsft.config import ConfigError, load_config

    path = write_synthetic_run(tmp_path / "run", inject="uneven.spread", level=1.5)   # spread 0.6
    loose = load_config(DiagnoseConfig, None, ["uneven.max_spread=0.7", "crosstalk.judge=looks_like"])
    assert "uneven" not in diagnose_run(path, cfg=loose, log=quiet).fired()
    with pytest.raises(ConfigError, match="max_spred"):
        load_config(DiagnoseConfig, None, ["uneven.max_spred=0.7"])
    with pytest.raises(ConfigError):
        load_config(DiagnoseConfig, None, ["crosstalk.judge=gpt"])


def test_crosstalk_uses_the_judge_with_the_prompt_in_view(tmp_path):
    """With a judge, the verdict comes from (prompt, output) pairs; `looks_like` is not consulted."""
    path = write_synthetic_run(tmp_path / "run")              # clean looks_like
    seen = []

    def judge(items, intended):
        seen.extend(items)
        out = []
        for (prompt, output), task in zip(items, intended):
            # every translation the tuned model answered, answered as a question (the base model's were clean)
            crossed = task == "translation" and not output.startswith("base ")
            out.append(SimpleNamespace(performed_task="open_qa" if crossed else task, crossed=crossed,
                                       confidence=0.9, reason="fake"))
        return out

    c = DiagnoseConfig()
    d = diagnose_run(path, cfg=c, judge=judge, log=quiet)
    f = d.finding("crosstalk")
    assert f.extra["method"] == "judge" and f.fires and f.checks[0].task == "translation"
    assert isinstance(seen[0][0], list) and seen[0][0][0]["role"] == "user"   # the prompt went in
    labels, matrix = f.extra["labels"], f.extra["matrix"]
    assert matrix[labels.index("translation")][labels.index("open_qa")] == 400
    rates = {r["task"]: r["rate"] for r in f.table}
    assert rates["translation"] == 1.0 and rates["code"] == 0.0
    base_rates = {r["task"]: r["base_rate"] for r in f.table}     # the base model judged the same way
    assert base_rates["translation"] == 0.0 and base_rates["code"] == 0.0
    assert {r["task"]: r["rise"] for r in f.table}["translation"] == 1.0


def test_low_confidence_judge_verdicts_do_not_count(tmp_path):
    path = write_synthetic_run(tmp_path / "run")

    def judge(items, intended):
        return [SimpleNamespace(performed_task="open_qa", crossed=True, confidence=0.3, reason="") for _ in items]

    d = diagnose_run(path, cfg=DiagnoseConfig(), judge=judge, log=quiet)
    assert not d.finding("crosstalk").fires


def test_empty_outputs_are_format_failures_not_crosstalk(tmp_path):
    path = write_synthetic_run(tmp_path / "run")
    pred = path / "eval_tuned" / "predictions.jsonl"
    rows = [json.loads(x) for x in pred.read_text().splitlines()]
    pred.write_text("".join(json.dumps({**r, "prediction": ""}) + "\n" for r in rows))
    asked = []

    def judge(items, intended):   # would call every output crossed
        asked.extend(items)
        return [SimpleNamespace(performed_task="translation", crossed=True, confidence=1.0, reason="") for _ in items]

    f = diagnose_run(path, cfg=DiagnoseConfig(), judge=judge, log=quiet).finding("crosstalk")
    assert all(output.startswith("base ") for _, output in asked)   # only the base model's (non-empty) outputs
    assert not f.fires and f.extra["labels"][0] == "(empty)"
    assert all(r["crossed"] == 0 for r in f.table)


def test_eval_run_layout_with_suites_and_explicit_folders(tmp_path):
    """`mtsft eval run --out DIR` writes DIR/SUITE/...; a task in two suites is judged per suite."""
    import shutil

    src = write_synthetic_run(tmp_path / "run", inject="format")
    for side in ("base", "tuned"):
        for suite in ("builtin", "real"):
            dst = tmp_path / side / suite
            dst.mkdir(parents=True)
            rows = [json.loads(x) for x in (src / f"eval_{side}" / "predictions.jsonl").read_text().splitlines()]
            if suite == "real":
                rows = [{**r, "suite": "real"} for r in rows if r["task"] == "math"]
            (dst / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
            shutil.copy(src / f"eval_{side}" / "scores.json", dst / "scores.json")
    d = diagnose_run(None, base=tmp_path / "base", tuned=tmp_path / "tuned", train=src / "train", cfg=cfg(),
                     log=quiet)
    groups = {r["task"] for r in d.finding("uneven").table}
    assert {"math@builtin", "math@real", "code"} <= groups
    assert d.fired() == ["format"]


def test_missing_inputs_are_not_applicable_not_fired(tmp_path):
    path = write_synthetic_run(tmp_path / "run")
    for name in ("perplexity.json", "train/task_loss.csv"):
        (path / name).unlink()
    import shutil

    shutil.rmtree(path / "eval_base")
    d = diagnose_run(path, cfg=cfg(perplexity=False), log=quiet)
    assert d.fired() == []
    forgetting, overfit = d.finding("forgetting"), d.finding("overfit")
    assert [c.status for c in forgetting.checks] == ["n/a", "n/a"]
    assert overfit.checks[0].status == "n/a"
    with pytest.raises(FileNotFoundError):
        diagnose_run(tmp_path / "nowhere", cfg=cfg(), log=quiet)


@pytest.mark.slow
def test_the_real_judge_finds_crossed_translations(tmp_path):
    """The prompt-aware judge (mtsft.eval.judge) on registry pairs: every translation answered as another
    task (crossed), every other task answered cleanly. Slow: the judge trains once per process."""
    from mtsft.eval.judge import make_pairs
    from mtsft.records import write_jsonl

    pairs = make_pairs(seed=7, per_task_lang=5, held_out=True, crossed_share=0.0)
    pairs = [p for p in pairs if p["intended"] != "translation"]
    pairs += [p for p in make_pairs(seed=8, per_task_lang=12, held_out=True, crossed_share=1.0,
                                    task_names=["translation"]) if p["crossed"]]
    rows = [{"id": f"p{i}", "task": p["intended"], "lang": p["lang"], "suite": "builtin",
             "prompt": p["prompt"][-1]["content"], "prediction": p["output"], "reference": None, "score": 1.0,
             "metric": "-", "violations": [], "looks_like": None,
             "messages": p["prompt"] + [{"role": "assistant", "content": p["output"]}]} for i, p in enumerate(pairs)]
    write_jsonl(tmp_path / "tuned" / "predictions.jsonl", rows)
    d = diagnose_run(None, tuned=tmp_path / "tuned", cfg=DiagnoseConfig(perplexity=False), log=quiet)
    f = d.finding("crosstalk")
    assert f.extra["method"] == "judge"
    assert f.fires and f.checks[0].task == "translation"
    rates = {r["task"]: r["rate"] for r in f.table}
    assert rates["translation"] >= 0.8
    assert all(rate <= 0.2 for task, rate in rates.items() if task != "translation"), rates
