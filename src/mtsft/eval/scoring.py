"""Score predictions with each task's verifier: `mtsft eval score` and the cross-task check.

`score_predictions` takes records that carry a `prediction` (the model's answer to the last user turn,
generated anywhere) and asks the task registry how good and how well-formed each one is. It never knows a
task by name: the record's `task` field picks the verifier.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from mtsft.records import read_records, response


def score_one(record: dict, prediction: str) -> tuple[float, list[str]]:
    from mtsft.tasks import get

    task = get(record["task"])
    return task.score(prediction, record), task.format_violations(prediction, record)


def metric_of(task: str) -> str:
    """The name of what `task`'s score measures (the registry's `Task.metric`), for every scores table."""
    from mtsft.tasks import get

    return getattr(get(task), "metric", None) or "verifier"


def score_predictions(records: Iterable[dict], *, workers: int = 4) -> dict:
    """Per-task table {task: {metric, n, score, format_ok, violations{kind: n}, by_lang{lang: score}}} plus
    "overall" (a mean over records scored by different metrics: read it with the per-task metric names).

    Threads because code verifiers spend their time waiting on sandbox subprocesses.
    """
    records = list(records)
    for i, r in enumerate(records):
        if not isinstance(r.get("prediction"), str):
            raise ValueError(f"record {i} ({r.get('id', 'no id')}) has no string `prediction` field")
        if not r.get("task"):
            raise ValueError(f"record {i} ({r.get('id', 'no id')}) has no `task`; classify it first (mtsft data classify)")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda r: score_one(r, r["prediction"]), records))
    per_task: dict[str, dict] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        groups[r["task"]].append(i)
    for task, idx in sorted(groups.items()):
        per_task[task] = {"metric": metric_of(task), **_summary([records[i] for i in idx], [results[i] for i in idx])}
    overall = _summary(records, results)
    overall["task_mean"] = sum(t["score"] for t in per_task.values()) / len(per_task) if per_task else 0.0
    return {"tasks": per_task, "overall": overall,
            "per_record": [{"id": r.get("id"), "task": r["task"], "score": s, "violations": v}
                           for r, (s, v) in zip(records, results)]}


def _summary(records: list[dict], results: list[tuple[float, list[str]]]) -> dict:
    n = len(records)
    violations = Counter(v for _, vs in results for v in vs)
    by_lang: dict[str, list[float]] = defaultdict(list)
    for r, (s, _) in zip(records, results):
        by_lang[r.get("lang") or "?"].append(s)
    return {"n": n, "score": sum(s for s, _ in results) / n if n else 0.0,
            "format_ok": sum(not vs for _, vs in results) / n if n else 0.0,
            "violations": dict(violations.most_common()),
            "by_lang": {lang: sum(v) / len(v) for lang, v in sorted(by_lang.items())}}


def read_predictions(path) -> list[dict]:
    """Records with a `prediction` field; a bad line is an error naming file and line."""
    return read_records(path, require=("prediction",))


def scores_table(result: dict):
    from rich.table import Table

    table = Table(title="per-task scores (each task's own metric)")
    for col in ("task", "metric", "n", "score", "format ok", "top violation", "zh", "en"):
        table.add_column(col, justify="left" if col in ("task", "metric", "top violation") else "right")
    for task, row in list(result["tasks"].items()) + [("[bold]overall", result["overall"])]:
        top = next(iter(row["violations"].items()), None)
        metric = row.get("metric", "mean over records" if task == "[bold]overall" else "")
        table.add_row(task, metric, str(row["n"]), f"{row['score']:.3f}", f"{row['format_ok']:.1%}",
                      f"{top[0]} ({top[1]})" if top else "", *(f"{row['by_lang'][k]:.3f}" if k in row["by_lang"] else ""
                                                                  for k in ("zh", "en")))
    return table


# ---- cross-task check: each task's references scored as answers to every other task ------------------

def cross_task_matrix(n_per_task: int = 12, seed: int = 0, langs=("zh", "en")) -> dict[str, dict[str, float]]:
    """matrix[verifier_task][answer_task] = mean score that `verifier_task` gives to reference answers of
    `answer_task`, paired record by record within a language. The diagonal is each task's own references
    (1.0 when the verifier is sound); off the diagonal should stay low."""
    from mtsft.tasks import all_tasks

    tasks = [t for t in all_tasks() if hasattr(t, "templates")]  # tasks that can generate
    samples: dict[tuple[str, str], list[dict]] = {}
    for t in tasks:
        for lang in langs:
            rng = random.Random(f"cross-{seed}-{t.name}-{lang}")
            samples[(t.name, lang)] = [t.generate(rng, lang) for _ in range(n_per_task)]
    jobs = [(v, a, rec, response(ans)) for v in tasks for a in tasks for lang in langs
            for rec, ans in zip(samples[(v.name, lang)], samples[(a.name, lang)])]
    with ThreadPoolExecutor(max_workers=4) as pool:
        scores = list(pool.map(lambda j: j[0].score(j[3], j[2]), jobs))
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (v, a, _, _), s in zip(jobs, scores):
        sums[(v.name, a.name)].append(s)
    return {v.name: {a.name: sum(sums[(v.name, a.name)]) / len(sums[(v.name, a.name)]) for a in tasks} for v in tasks}


def likeness_accuracy(n_per_task: int = 20, seed: int = 0, langs=("zh", "en")) -> tuple[float, dict[str, float]]:
    """How often argmax over tasks of `output_likeness(reference)` names the reference's own task."""
    from mtsft.tasks import all_tasks

    tasks = [t for t in all_tasks() if hasattr(t, "templates")]
    per_task = {}
    for t in tasks:
        hits = 0
        for lang in langs:
            rng = random.Random(f"like-{seed}-{t.name}-{lang}")
            for _ in range(n_per_task):
                out = response(t.generate(rng, lang))
                best = max(tasks, key=lambda u: u.output_likeness(out))
                hits += best.name == t.name
        per_task[t.name] = hits / (n_per_task * len(langs))
    return sum(per_task.values()) / len(per_task), per_task
