"""Scores of predictions: each record carrying a `prediction` scored by its task's verifier (`mtsft eval score`, the cross-task check).

`score_predictions` takes records that carry a `prediction` (the model's answer to the last user turn,
generated anywhere) and asks the task registry how good and how well-formed each one is. It never knows a
task by name: the record's `task` field picks the verifier.
"""

from __future__ import annotations

import errno
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from mtsft.records import check_complete, iter_jsonl, read_records, response


# What a malformed record makes a verifier raise that its task's reference check did not foresee: that
# record is rejected with the error as its reason. Anything else (no sandbox here, the machine out of file
# descriptors) is about the machine, not the record, and stops the job with one line.
RECORD_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError, RecursionError)


class TooManyOpenFiles(ValueError):
    """The open-files limit is too low to start the code sandbox (one line for the whole job)."""


def score_record(record: dict, prediction: str, *, allow_unsafe: bool | None = None) -> tuple[float, list[str], str | None]:
    """(score, format violations, None), or (0.0, [], reason) for a record its task cannot score: no task,
    an unknown task, a reference that does not fit the task's `reference_model`, or a verifier that fails
    on it. The one guard between a bad record and the whole job. `allow_unsafe` reaches the verifiers that
    run code (`executes_code`; see `mtsft.sandbox.run_tests`), for this call only."""
    from mtsft.tasks import formats, get

    name = record.get("task")
    if not isinstance(name, str) or not name:
        return 0.0, [], "no `task`; classify it first (mtsft data classify)"
    try:
        task = get(name)
    except KeyError as e:
        return 0.0, [], str(e.args[0])
    problem = task.reference_problem(record)
    if problem:
        return 0.0, [], problem
    if len(prediction) > formats.MAX_ANSWER_CHARS:  # scored 0 unread: no verifier parses an unbounded answer
        return 0.0, [formats.ANSWER_OVER_CAP], None
    try:
        permission = {"allow_unsafe": allow_unsafe} if allow_unsafe is not None and getattr(task, "executes_code", False) else {}
        return task.score(prediction, record, **permission), task.format_violations(prediction, record), None
    except RECORD_ERRORS as e:
        return 0.0, [], f"the {name} verifier cannot read this record: {e.__class__.__name__}: {str(e)[:160]}"
    except OSError as e:
        if e.errno in (errno.EMFILE, errno.ENFILE):
            import resource

            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            raise TooManyOpenFiles(f"too many open files to run code tests (the open-files limit is {soft}): "
                                   "raise it, e.g. `ulimit -n 4096`, and score again") from None
        raise


def score_one(record: dict, prediction: str) -> tuple[float, list[str]]:
    """(score, format violations) of one record; a record that cannot be scored raises ValueError."""
    score, violations, reason = score_record(record, prediction)
    if reason:
        raise ValueError(f"record {record.get('id', 'no id')}: {reason}")
    return score, violations


def metric_of(task: str) -> str:
    """The name of what `task`'s score measures (the registry's `Task.metric`), for every scores table."""
    from mtsft.tasks import get

    return getattr(get(task), "metric", None) or "verifier"


def score_predictions(records: Iterable[dict], *, workers: int = 4, places: list[str] | None = None,
                      allow_unsafe: bool | None = None) -> dict:
    """Per-task table {task: {metric, n, score, format_ok, violations{kind: n}, by_lang{lang: score}}} plus
    "overall" (a mean over records scored by different metrics: read it with the per-task metric names).

    A record that cannot be scored (see `score_record`) is left out of every table and listed under
    "rejected" with its reason and `places[i]` (file:line) where given; the rest are scored.
    Threads because code verifiers spend their time waiting on sandbox subprocesses. `allow_unsafe`: see
    `score_record` (passed, never put in the environment: it holds for these records only).
    """
    records = list(records)
    for i, r in enumerate(records):
        if not isinstance(r.get("prediction"), str):
            raise ValueError(f"record {i} ({r.get('id', 'no id')}) has no string `prediction` field")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda r: score_record(r, r["prediction"], allow_unsafe=allow_unsafe), records))
    scored = [i for i, (_, _, reason) in enumerate(results) if reason is None]
    per_task: dict[str, dict] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for i in scored:
        groups[records[i]["task"]].append(i)
    for task, idx in sorted(groups.items()):
        per_task[task] = {"metric": metric_of(task), **_summary([records[i] for i in idx], [results[i][:2] for i in idx])}
    overall = _summary([records[i] for i in scored], [results[i][:2] for i in scored])
    overall["task_mean"] = sum(t["score"] for t in per_task.values()) / len(per_task) if per_task else 0.0
    rejected = [{"id": r.get("id"), "task": r.get("task"), **({"where": places[i]} if places else {}), "reason": reason}
                for i, (r, (_, _, reason)) in enumerate(zip(records, results)) if reason is not None]
    return {"tasks": per_task, "overall": overall, "rejected": rejected,
            "per_record": [{"id": r.get("id"), "task": r.get("task"), "score": s, "violations": v,
                            **({"rejected": reason} if reason else {})}
                           for r, (s, v, reason) in zip(records, results)]}


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


def read_predictions_at(path) -> tuple[list[dict], list[str], list[dict]]:
    """(records, each one's place "file:line", rejected lines): a line that cannot be read, or is not a record
    with a string `prediction`, is rejected on its own ({"id", "task", "where", "reason"}); the rest are
    scored. A file of an unfinished output is refused (`check_complete`)."""
    check_complete(path)
    records, places, rejected = [], [], []
    for line, obj, err in iter_jsonl(path):
        if err is None and not (isinstance(obj, dict) and "messages" in obj):
            err = "not an mtsft record (no 'messages'); import it with `mtsft data import`"
        elif err is None and not isinstance(obj.get("prediction"), str):
            err = "no string `prediction` field"
        if err:
            known = obj if isinstance(obj, dict) else {}
            rejected.append({"id": known.get("id"), "task": known.get("task"), "where": f"{path}:{line}", "reason": err})
        else:
            records.append(obj)
            places.append(f"{path}:{line}")
    return records, places, rejected


def score_file(path, *, workers: int = 4, allow_unsafe: bool | None = None) -> dict:
    """`mtsft eval score`: `score_predictions` of a file, its unreadable lines listed under "rejected"
    beside the records no verifier could score. A file with nothing to score is an error naming its first
    bad line."""
    records, places, unreadable = read_predictions_at(path)
    if not records and unreadable:
        first = unreadable[0]
        raise ValueError(f"{first['where']}: {first['reason']} (no record to score; {len(unreadable)} rejected)")
    result = score_predictions(records, workers=workers, places=places, allow_unsafe=allow_unsafe)
    result["rejected"] = sorted(unreadable + result["rejected"], key=lambda r: int(r["where"].rsplit(":", 1)[1]))
    return result


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
