"""Forgetting that can decide (issue 28.6): the general prompts' drop is base minus tuned in score points on
the same prompts, with a paired bootstrap interval, decided against the unchanged threshold; a base near
zero gives an interval bounded by the data, never a ratio's [-650%, 84.5%]; the perplexity check is as it was."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mtsft.diagnose.config import DiagnoseConfig
from mtsft.diagnose.inputs import EvalSide, RunInputs
from mtsft.diagnose.problems import decide, forgetting
from mtsft.diagnose.report import check_line


def rows(task: str, scores: list[float], side: str, lang: str = "en") -> list[dict]:
    return [{"id": f"{task}-{lang}-{i}", "task": task, "lang": lang, "suite": "builtin", "prompt": f"{task} prompt {i}",
             "prediction": f"{side} answer {i}", "reference": "ref", "score": s, "violations": []}
            for i, s in enumerate(scores)]


def inputs(base: dict[str, list[float]], tuned: dict[str, list[float]], perplexity=None) -> RunInputs:
    """A run whose base and tuned models answered the same prompts of the given tasks (all trained, so the
    configured general tasks are the general prompts, as in the demo)."""
    b = [r for task, s in base.items() for r in rows(task, s, "base")]
    t = [r for task, s in tuned.items() for r in rows(task, s, "tuned")]
    return RunInputs(None, EvalSide(Path("base"), b), EvalSide(Path("tuned"), t),
                     train_counts={task: 10 for task in tuned}, perplexity=perplexity)


def score_check(finding):
    return next(c for c in finding.checks if c.name == "general score drop")


def noisy(rng, mean: float, n: int) -> list[float]:
    return [float(x) for x in np.clip(rng.normal(mean, 0.15, n), 0, 1)]


def test_tuned_losing_general_ability_beyond_the_interval_fires():
    rng = np.random.default_rng(0)
    base = {"chitchat": noisy(rng, 0.7, 24), "rewriting": noisy(rng, 0.8, 24)}
    tuned = {task: [max(0.0, s - 0.3) for s in scores] for task, scores in base.items()}
    f = forgetting(inputs(base, tuned), DiagnoseConfig())
    check = score_check(f)
    drop = np.mean([b - t for task in base for b, t in zip(base[task], tuned[task])])
    assert check.value == pytest.approx(drop)            # score points, not 1 - tuned / base (about 0.4)
    assert 0.25 < check.value < 0.31
    assert check.threshold == DiagnoseConfig().forgetting.max_score_drop == 0.10
    assert check.ci[0] > check.threshold and check.status == "fires" == f.status
    assert check.status == decide(check.value, check.ci, check.threshold)
    assert {r["task"]: r["drop"] for r in f.table} == pytest.approx(
        {task: np.mean(np.subtract(base[task], tuned[task])) for task in base})
    assert all(r["drop_ci"][0] > 0.1 for r in f.table)
    assert check_line(check).startswith(f"general score drop: {check.value:.3f} [")   # points, not a percentage


def test_equal_general_scores_are_ok():
    rng = np.random.default_rng(1)
    base = {"chitchat": noisy(rng, 0.6, 24), "rewriting": noisy(rng, 0.7, 24)}
    f = forgetting(inputs(base, {k: list(v) for k, v in base.items()}), DiagnoseConfig())
    check = score_check(f)
    assert check.value == 0.0 and check.ci == (0.0, 0.0)
    assert check.status == "ok" == decide(check.value, check.ci, check.threshold)
    assert [r["drop"] for r in f.table] == [0.0, 0.0]


def test_a_base_near_zero_gives_an_interval_in_score_points_bounded_by_the_data():
    # the demo's general prompts: open_qa, which base never answers (0.000), and chitchat; tuned gains on
    # open_qa. A ratio to base's resampled mean read this as [-650%, 84.5%].
    base = {"open_qa": [0.0] * 24, "chitchat": [0.0] * 20 + [0.3, 0.2, 0.1, 0.0]}
    tuned = {"open_qa": [1.0] * 6 + [0.0] * 18, "chitchat": [0.0] * 20 + [0.1, 0.2, 0.0, 0.0]}
    check = score_check(forgetting(inputs(base, tuned), DiagnoseConfig()))
    diffs = [b - t for task in base for b, t in zip(base[task], tuned[task])]
    assert check.value == pytest.approx(np.mean(diffs))
    assert min(diffs) <= check.ci[0] <= check.value <= check.ci[1] <= max(diffs)
    assert -1 <= check.ci[0] and check.ci[1] <= 1
    # base's mean (0.013) leaves no room for a drop above the threshold: not a vacuous "ok"
    assert check.status == "n/a" and "no room for a drop" in check.detail


def test_the_demos_general_prompts_are_decided_in_score_points():
    """Base at 0.19 on the demo's open_qa + chitchat: the interval is in points and decide() reads it."""
    base = {"open_qa": [0.0] * 24, "chitchat": [0.8, 0.4, 0.0] * 8}
    tuned = {"open_qa": [1.0, 0.0, 0.0, 0.0, 0.0, 0.0] * 4, "chitchat": [0.7, 0.4, 0.0] * 8}
    check = score_check(forgetting(inputs(base, tuned), DiagnoseConfig()))
    assert check.value == pytest.approx((0.4 - 1.1 / 3 - 1 / 6) / 2)
    assert -1 <= check.ci[0] < check.value < check.ci[1] <= 1
    assert check.status == decide(check.value, check.ci, check.threshold) == "ok"


def test_the_general_prompts_are_the_english_ones_by_default():
    """The embedded 135M model writes English only: its Chinese answers loop and score ~0, so by default only
    English rows are general prompts (forgetting.general_langs); [] takes every language."""
    en = [0.7, 0.5, 0.9, 0.6] * 3
    run = inputs({"rewriting": en}, {"rewriting": en})
    run.base.rows += rows("rewriting", [0.0] * 12, "base", "zh")
    run.tuned.rows += rows("rewriting", [0.0] * 12, "tuned", "zh")
    check = score_check(f := forgetting(run, DiagnoseConfig()))
    assert f.extra["general"]["n"] == 12 and f.extra["general"]["base"] == pytest.approx(0.675)
    assert "in en (forgetting.general_langs)" in check.detail
    every = DiagnoseConfig.model_validate({"forgetting": {"general_langs": []}})
    assert forgetting(run, every).extra["general"]["n"] == 24


def ppl(nll_per_token: float, tokens: list[int]) -> dict:
    return {"nll": [nll_per_token * k for k in tokens], "tokens": tokens}


@pytest.mark.parametrize("tuned_ppl, status", [(10.0, "ok"), (12.0, "fires"), (10.5, "ok")])
def test_perplexity_check_unchanged(tuned_ppl, status):
    tokens = [40, 55, 70, 33, 61, 48]
    perplexity = {"base": ppl(math.log(10.0), tokens), "tuned": ppl(math.log(tuned_ppl), tokens)}
    f = forgetting(inputs({"chitchat": [0.5] * 6}, {"chitchat": [0.5] * 6}, perplexity), DiagnoseConfig())
    check = f.checks[0]
    assert check.name == "perplexity increase" and check.threshold == 0.10
    assert check.value == pytest.approx(tuned_ppl / 10.0 - 1)
    assert check.ci == pytest.approx((tuned_ppl / 10.0 - 1,) * 2)
    assert check.status == status
    assert f.extra["perplexity"]["base"] == pytest.approx(10.0)
    assert f.extra["perplexity"]["tuned"] == pytest.approx(tuned_ppl)
