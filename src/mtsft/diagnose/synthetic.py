"""A synthetic `mtsft run` folder whose truth is known: the five problems each injectable at a chosen multiple
of its threshold, everything else clean. For tests, and for seeing the report without training anything.

    write_synthetic_run(out, inject="crosstalk", level=1.5)   # crosstalk at 1.5x its threshold
    write_synthetic_run(out, variant=3)                        # one of several clean runs

Injections (name: what is set to `level` x the threshold):
    uneven.spread       best minus worst tuned task score
    uneven.drop         base minus tuned score of one trained task
    uneven.gain         largest minus smallest gain over base (one task gains far more than the others)
    crosstalk           one task's share of outputs performing another task
    format              one task's share of outputs with a format violation
    forgetting.ppl      general perplexity, tuned / base - 1
    forgetting.score    general prompts' score, base minus tuned (score points)
    overfit.gap         one task's final eval minus train loss
    overfit.seen        one task's score on seen (training) content minus on held-out content
    overfit.share       Spearman correlation of mixture share and gain (1.5 x 0.6 = 0.9: one swapped rank)
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import yaml

from mtsft import runfiles
from mtsft.diagnose.config import DiagnoseConfig
from mtsft.records import write_jsonl

INJECTIONS = ("uneven.spread", "uneven.drop", "uneven.gain", "crosstalk", "format", "forgetting.ppl", "forgetting.score",
              "overfit.gap", "overfit.seen", "overfit.share")
PROBLEM_OF = {name: name.split(".")[0] for name in INJECTIONS}
TRAINED = ["code", "math", "translation", "summarization", "classification"]
GENERAL = "chitchat"
SHARES = [0.10, 0.15, 0.20, 0.25, 0.30]
CLEAN_GAINS = [0.08, 0.04, 0.10, 0.02, 0.06]        # by share rank: Spearman rho -0.3 with the share


def write_synthetic_run(out: str | Path, *, inject: str | list[str] | None = None, level: float = 1.5, variant: int = 0,
                        n: int = 400, cfg: DiagnoseConfig | None = None, general_task: str = GENERAL) -> Path:
    """`general_task`: the untrained task's label (a user label such as "闲聊" shows CJK in the figures)."""
    injects = {inject} if isinstance(inject, str) else set(inject or ())
    if injects - set(INJECTIONS):
        raise ValueError(f"inject {inject!r}: expected some of {', '.join(INJECTIONS)}")
    cfg = cfg or DiagnoseConfig()
    out = Path(out)
    rng = np.random.default_rng(1000 + variant)
    order = list(rng.permutation(len(TRAINED)))          # which task gets which share differs per variant
    tasks = [TRAINED[i] for i in order]
    share = dict(zip(tasks, SHARES))
    target = tasks[3]                                     # the task an injection lands on (its clean gain is lowest)
    base_level = 0.55 + 0.05 * (variant % 3)
    tuned_mean = {t: base_level + 0.025 * k for k, t in enumerate(tasks)}   # spread 0.1 (0.25x the threshold)
    tuned_mean[general_task] = base_level + 0.05
    if "uneven.spread" in injects:
        spread = level * cfg.uneven.max_spread
        tuned_mean.update({t: 0.75 - spread * k / (len(tasks) - 1) for k, t in enumerate(tasks)})
    gains = dict(zip(tasks, CLEAN_GAINS))
    if "overfit.share" in injects:
        gains = dict(zip(tasks, [0.02, 0.06, 0.04, 0.08, 0.10]))   # ranks 1 3 2 4 5: rho = 0.9
    if "uneven.gain" in injects:            # the task already gaining most gains level x the threshold more
        top = max(gains, key=gains.get)
        gains[top] = min(gains.values()) + level * cfg.uneven.max_gain_spread
    if "uneven.drop" in injects:
        gains[target] = -level * cfg.uneven.max_drop
    gains[general_task] = 0.0
    general_base = tuned_mean[general_task]
    if "forgetting.score" in injects:
        tuned_mean[general_task] = general_base - level * cfg.forgetting.max_score_drop
        gains[general_task] = tuned_mean[general_task] - general_base

    crossed_rate = {t: 0.01 for t in tasks + [general_task]}
    format_rate = {t: 0.02 for t in tasks + [general_task]}
    if "crosstalk" in injects:
        crossed_rate[target] = level * cfg.crosstalk.max_rate
    if "format" in injects:
        format_rate[target] = level * cfg.format.max_rate

    base_rows, tuned_rows = [], []
    for t in tasks + [general_task]:
        k_cross, k_fmt = round(crossed_rate[t] * n), round(format_rate[t] * n)
        noise = rng.normal(0, 0.08, n)
        for i in range(n):
            lang = "zh" if i % 2 else "en"
            prompt = f"{'请完成任务' if lang == 'zh' else 'Please do the task'} {t} #{i}"
            ts = float(np.clip(tuned_mean[t] + noise[i], 0, 1))
            bs = float(np.clip(tuned_mean[t] - gains[t] + noise[i] + rng.normal(0, 0.02), 0, 1))
            other = "open_qa" if t != "open_qa" else "chitchat"
            common = {"id": f"{t}-{i}", "task": t, "lang": lang, "suite": "builtin", "prompt": prompt,
                      "reference": f"reference {i}", "metric": "synthetic",
                      "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": f"reference {i}"}]}
            crossed = i < k_cross
            violations = ["bad_format"] if (n - 1 - i) < k_fmt else []
            tuned_rows.append({**common, "prediction": f"{'回答' if crossed else '完成'} {t} {i}", "score": ts,
                               "violations": violations, "looks_like": other if crossed else t})
            base_rows.append({**common, "prediction": f"base {t} {i}", "score": bs, "violations": [],
                              "looks_like": t})
    seen_gap = {t: 0.05 for t in tasks}    # clean: training content scores a little higher
    if "overfit.seen" in injects:
        seen_gap[target] = level * cfg.overfit.max_seen_gap
    # each score moved a share `a` of the way to 1, so the mean rises by exactly the gap and stays in [0, 1]
    mean = {t: float(np.mean([r["score"] for r in tuned_rows if r["task"] == t])) for t in seen_gap}
    lift = {t: seen_gap[t] / (1 - mean[t]) for t in seen_gap}
    seen_rows = [{**r, "id": f"seen-{r['id']}", "suite": "seen", "score": r["score"] + lift[r["task"]] * (1 - r["score"])}
                 for r in tuned_rows if r["task"] in seen_gap]
    runfiles.write_predictions(out / "eval_seen" / "seen", seen_rows)
    runfiles.write_scores(out / "eval_seen" / "seen", _scores(seen_rows))
    for name, rows in (("base", base_rows), ("tuned", tuned_rows)):
        runfiles.write_predictions(out / f"eval_{name}", rows)
        runfiles.write_scores(out / f"eval_{name}", _scores(rows))

    # training: mixture, per-task losses, config
    counts = {t: round(share[t] * 1000) for t in tasks}
    kept = [{"id": f"k-{t}-{i}", "task": t, "lang": "en",
             "messages": [{"role": "user", "content": f"{t} {i}"}, {"role": "assistant", "content": "ok"}]}
            for t in tasks for i in range(counts[t])]
    write_jsonl(out / "curate" / "kept.jsonl", kept)
    (out / "curate" / "manifest.json").write_text(json.dumps({"outputs": {}, "synthetic": True}), encoding="utf-8")
    train = out / "train"
    train.mkdir(parents=True, exist_ok=True)
    (train / "config.yaml").write_text(yaml.safe_dump({"model": "tiny", "data": str(out / "curate" / "kept.jsonl"),
                                                       "out": str(train), "seed": 0, "epochs": 2.0, "lr": 2e-4},
                                                      sort_keys=False), encoding="utf-8")
    runfiles.write_run_info(train, {"status": "completed", "tasks": sorted(tasks)})
    with open(train / "task_loss.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["step", "stage", "split", "task", "loss"])
        train_loss = lambda step, k: 1.0 + 1.5 * math.exp(-step / 30) + 0.05 * k  # noqa: E731
        smooth = cfg.overfit.smooth
        for step in range(10, 101, 10):
            for k, t in enumerate(tasks):
                tr = train_loss(step, k)
                gap = 0.1
                if "overfit.gap" in injects and t == target:   # eval rises; the final gap (vs the smoothed train
                    final = np.mean([train_loss(100 - 10 * j, k) for j in range(smooth)])  # loss) is level x thr
                    gap = 0.1 + (level * cfg.overfit.max_loss_gap + final - train_loss(100, k) - 0.1) * step / 100
                w.writerow([step, "main", "train", t, round(tr, 4)])
                w.writerow([step, "main", "eval", t, round(tr + gap, 4)])

    # general perplexity per text, base and tuned
    m = 200
    tokens = rng.integers(50, 150, m)
    nll_b = tokens * rng.normal(2.0, 0.3, m)
    rel = level * cfg.forgetting.max_ppl_increase if "forgetting.ppl" in injects else 0.0
    nll_t = nll_b + tokens * (math.log1p(rel) + rng.normal(0, 0.02, m))
    (out / "perplexity.json").write_text(json.dumps({
        "texts": m, "base": {"nll": nll_b.tolist(), "tokens": tokens.tolist()},
        "tuned": {"nll": nll_t.tolist(), "tokens": tokens.tolist()}}), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps({"inject": sorted(injects), "level": level, "variant": variant,
                                                "target": target, "problems": sorted({PROBLEM_OF[i] for i in injects})},
                                               ensure_ascii=False), encoding="utf-8")
    return out


def _scores(rows: list[dict]) -> dict:
    from mtsft.eval.evaluate import bootstrap_ci

    by_task: dict[str, list[dict]] = {}
    for r in rows:
        by_task.setdefault(r["task"], []).append(r)
    tasks = {}
    for t, rs in sorted(by_task.items()):
        vals = [r["score"] for r in rs]
        viol: dict[str, int] = {}
        for r in rs:
            for v in r["violations"]:
                viol[v] = viol.get(v, 0) + 1
        tasks[t] = {"n": len(rs), "score": float(np.mean(vals)), "ci95": bootstrap_ci(vals, 1000),
                    "metric": "synthetic", "format_ok": sum(not r["violations"] for r in rs) / len(rs),
                    "violations": viol, "by_lang": {}}
    allv = [r["score"] for r in rows]
    return {"tasks": tasks, "overall": {"n": len(rows), "score": float(np.mean(allv)), "ci95": bootstrap_ci(allv, 1000)},
            "run": {"model": "synthetic"}}
