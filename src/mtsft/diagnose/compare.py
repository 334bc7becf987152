"""Eval runs side by side (base vs tuned, v1 vs v2): per task, per suite and macro, the change from the first
run to the last with its 95% interval.

Two runs that answered the same prompts are compared on paired differences: the bootstrap resamples prompts
and keeps each prompt's two answers together (`stats.paired_stat_ci`), so a prompt's own difficulty, shared
by both runs, does not count as noise. Where either run lacks per-record scores (a scores.json alone) or the
two answered different records, the change falls back to the unpaired interval (the two reported intervals
added in quadrature) and its row says so (`paired` False).

    overall   the suite's records pooled (a mean over records scored by different metrics)
    macro     the mean of the suite's task means; ("all", "macro"): over every suite's tasks
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mtsft import runfiles
from mtsft.diagnose import stats
from mtsft.diagnose.inputs import EvalSide, load_eval_dir
from mtsft.diagnose.problems import pair_rows


def compare_runs(paths: list[str | Path], samples: int = 1000, seed: int = 0) -> list[dict]:
    """Rows {suite, task, metric, n, scores [per run], delta (last - first), delta_ci, paired, decided}.
    `decided`: the change's 95% interval excludes zero."""
    runs = [_suites(p) for p in paths]
    suites = sorted({s for run in runs for s in run})
    rows, every_task = [], []
    for suite in suites:
        views = [_suite_view(run.get(suite), suite) for run in runs]
        tasks = sorted({t for v in views for t in v["tasks"]})
        for task in tasks:
            rows.append(_row(suite, task, [v["tasks"].get(task) for v in views], samples, seed))
        rows.append(_row(suite, "overall", [v["overall"] for v in views], samples, seed))
        rows.append(_macro_row(suite, [{t: v["tasks"].get(t) for t in tasks} for v in views], samples, seed))
        every_task += [[v["tasks"].get(t) for v in views] for t in tasks]
    if len(suites) > 1:
        cells = [{i: group[k] for i, group in enumerate(every_task)} for k in range(len(runs))]
        rows.append(_macro_row("all", cells, samples, seed))
    return rows


def _suites(path: str | Path) -> dict[str, EvalSide]:
    """One eval output's suites by folder name (`eval run --out` writes OUT/SUITE/; a suite folder itself
    is one suite), each suite's rows relabelled with that name so that runs line up by folder."""
    folders = runfiles.suite_folders(path)
    if not folders:
        raise FileNotFoundError(f"{path}: no eval results (run `mtsft eval run --out {path}` first)")
    out = {}
    for folder in folders:
        side = load_eval_dir(folder)
        side.rows = [{**r, "suite": folder.name} for r in side.rows]
        side.scores = {folder.name: next(iter(side.scores.values()))} if side.scores else {}
        out[folder.name] = side
    return out


def _suite_view(side: EvalSide | None, suite: str) -> dict:
    """One run's cells in one suite: per task and overall, {score, ci, n, metric, rows (None: scores only)}."""
    view: dict = {"tasks": {}, "overall": None}
    if side is None:
        return view
    rows = side.rows
    scores = side.scores.get(suite) or {}
    if rows:
        by_task: dict[str, list[dict]] = {}
        for r in rows:
            by_task.setdefault(r["task"], []).append(r)
        for task, task_rows in by_task.items():
            view["tasks"][task] = _cell(task_rows, (scores.get("tasks") or {}).get(task, {}).get("metric"))
        view["overall"] = _cell(rows, None)
        return view
    for task, s in (scores.get("tasks") or {}).items():
        view["tasks"][task] = {"score": s["score"], "ci": s.get("ci95"), "n": s.get("n"), "metric": s.get("metric"),
                               "rows": None}
    if scores.get("overall"):
        o = scores["overall"]
        view["overall"] = {"score": o["score"], "ci": o.get("ci95"), "n": o.get("n"), "metric": None, "rows": None}
    return view


def _cell(rows: list[dict], metric: str | None) -> dict:
    values = [float(r.get("score") or 0.0) for r in rows]
    return {"score": float(np.mean(values)), "ci": stats.mean_ci(values), "n": len(rows), "rows": rows,
            "metric": metric or next((r.get("metric") for r in rows if r.get("metric")), None)}


def _row(suite: str, task: str, cells: list[dict | None], samples: int, seed: int) -> dict:
    first, last = cells[0], cells[-1]
    delta = ci = paired = None
    if first and last:
        delta = last["score"] - first["score"]
        pairs = pair_rows(first["rows"], last["rows"]) if first["rows"] and last["rows"] else None
        if pairs is not None:
            before, after = _scores(pairs)
            delta, ci = stats.paired_mean_diff(before, after, samples, seed)
            paired = True
        else:
            ci, paired = _unpaired(first, last, samples, seed), False
    metric = "" if task == "overall" else next((c["metric"] for c in cells if c and c.get("metric")), "")
    return {"suite": suite, "task": task, "metric": metric, "n": last["n"] if last else None,
            "scores": [c["score"] if c else None for c in cells], "delta": delta,
            "delta_ci": list(ci) if ci else None, "paired": paired,   # a list: the summary's JSON round-trips it
            "decided": bool(ci and (ci[0] > 0 or ci[1] < 0))}


def _unpaired(first: dict, last: dict, samples: int, seed: int):
    """Each run resampled alone (per-record scores on both sides, different records), else the two reported
    intervals added in quadrature."""
    if first["rows"] and last["rows"]:
        return stats.diff_ci([r.get("score") or 0.0 for r in last["rows"]],
                             [r.get("score") or 0.0 for r in first["rows"]], samples, seed)
    return stats.diff_ci_from_intervals(last["score"], last["ci"], first["score"], first["ci"])


def _scores(pairs: list[tuple[dict, dict]]) -> tuple[list[float], list[float]]:
    return [float(b.get("score") or 0.0) for b, _ in pairs], [float(t.get("score") or 0.0) for _, t in pairs]


def _macro_row(suite: str, cells: list[dict], samples: int, seed: int) -> dict:
    """The mean of task means per run; its change paired over every task's records when each task pairs."""
    means = [float(np.mean([c["score"] for c in run.values() if c])) if any(run.values()) else None for run in cells]
    first, last = cells[0], cells[-1]
    row = {"suite": suite, "task": "macro", "metric": "mean of task means",
           "n": sum(c["n"] or 0 for c in last.values() if c), "scores": means, "delta": None, "delta_ci": None,
           "paired": None, "decided": False}
    groups = [g for g in first if first.get(g) and last.get(g)]
    if not groups or means[0] is None or means[-1] is None:
        return row
    row["delta"] = float(np.mean([last[g]["score"] - first[g]["score"] for g in groups]))
    pairs = [(i, pair_rows(first[g]["rows"], last[g]["rows"]) if first[g]["rows"] and last[g]["rows"] else None)
             for i, g in enumerate(groups)]
    if all(p is not None for _, p in pairs):
        codes = [i for i, p in pairs for _ in p]
        before, after = _scores([bt for _, p in pairs for bt in p])
        row["delta"], ci = stats.paired_macro_diff(codes, before, after, samples, seed)
        row["delta_ci"] = list(ci) if ci else None
        row["paired"] = True
    else:
        row["paired"] = False   # no interval: the tasks' own unpaired intervals are in their rows
    row["decided"] = bool(row["delta_ci"] and (row["delta_ci"][0] > 0 or row["delta_ci"][1] < 0))
    return row
