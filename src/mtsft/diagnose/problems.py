"""The five multi-task problems, each measured as numbers (checks) against thresholds, with evidence.

    uneven      best minus worst task score; a trained task tuned below base; best minus worst gain over base
    crosstalk   rise over base of the share of a task's outputs that perform another task (prompt-aware judge)
    format      rise over base of the share of a task's outputs breaking the task's format, by kind
    forgetting  general held-out perplexity, tuned / base - 1; general prompts' score, base minus tuned (points)
    overfit     per-task eval minus train loss; rank correlation of mixture share and gain

Every check is decided on its 95% interval (see `decide`); a problem fires when any of its checks fires.
Base and tuned answered the same prompts, so every base-vs-tuned number is a paired difference with a
paired bootstrap interval (prompts resampled, `pair_rows`); the unpaired interval is the fallback only
where per-record scores are missing on either side or the two sides answered different records.
Crosstalk and format are decided on the rise over base: the judge and the format checks err the same way
on both models' weak outputs, so only what tuning added is the problem; the absolute rates stand beside it.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from mtsft.diagnose import stats
from mtsft.diagnose.config import DiagnoseConfig
from mtsft.diagnose.inputs import EvalSide, RunInputs
from mtsft.eval.judge import NO_TASK, Verdict, judge_many, request_of
from mtsft.runfiles import PREDICTIONS

# How severe a check's status is; a problem's summary line shows its most severe check (the first of
# equals): the one that decided the verdict.
STATUS_RANK = {"fires": 3, "undecided": 2, "ok": 1, "n/a": 0}


def overall_rate(table: list[dict], side: str = "tuned") -> float | None:
    """Crosstalk's or format's absolute rate over every judged output of `side` (tuned or base), from its
    per-task table (rows with `n` and `crossed` or `violating`, `base_n` and `base_crossed` or
    `base_violating`); the problem's headline is the worst task's rise over base."""
    prefix = "" if side == "tuned" else "base_"
    for hits in ("crossed", "violating"):
        if table and all(row.get(prefix + hits) is not None and row.get(prefix + "n") for row in table):
            return sum(row[prefix + hits] for row in table) / sum(row[prefix + "n"] for row in table)
    return None

PROBLEMS = ("uneven", "crosstalk", "format", "forgetting", "overfit")
TITLES = {"uneven": "Uneven performance", "crosstalk": "Crosstalk", "format": "Format confusion",
          "forgetting": "Forgetting", "overfit": "Overfitting to frequent tasks"}
EMPTY = "(empty)"


@dataclass
class Check:
    name: str
    value: float | None
    ci: tuple[float, float] | None
    threshold: float
    status: str                      # fires | undecided | ok | n/a
    task: str | None = None          # where the number was measured (the worst task)
    detail: str = ""


@dataclass
class Finding:
    problem: str
    checks: list[Check]
    table: list[dict] = field(default_factory=list)       # per task
    evidence: list[dict] = field(default_factory=list)    # the worst records
    extra: dict = field(default_factory=dict)             # confusion matrix, loss curves, ...
    note: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.problem]

    @property
    def status(self) -> str:
        return max((c.status for c in self.checks), key=STATUS_RANK.get, default="n/a")

    @property
    def fires(self) -> bool:
        return self.status == "fires"

    def fired_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fires"]

    def to_dict(self) -> dict:
        return {"problem": self.problem, "title": self.title, "status": self.status, "note": self.note,
                "checks": [asdict(c) for c in self.checks], "table": self.table, "evidence": self.evidence,
                "extra": self.extra}


def decide(value: float | None, ci, threshold: float) -> str:
    """fires: the interval lies wholly above the threshold; ok: wholly at or below; else undecided.
    Without an interval the point value decides."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if ci is None:
        return "fires" if value > threshold else "ok"
    if ci[0] > threshold:
        return "fires"
    if ci[1] <= threshold:
        return "ok"
    return "undecided"


def _check(name, value, ci, threshold, task=None, detail="") -> Check:
    ci = tuple(float(x) for x in ci) if ci else None
    return Check(name, None if value is None else float(value), ci, float(threshold),
                 decide(value, ci, threshold), task, detail)


def _worst(checks: list[Check], name: str, threshold: float, empty_detail: str) -> Check:
    """The summary of per-task checks: the firing one with the largest value, else the largest value."""
    if not checks:
        return Check(name, None, None, threshold, "n/a", None, empty_detail)
    return max(checks, key=lambda c: (STATUS_RANK[c.status], c.value if c.value is not None else -1e9))


# ---- shared views of the eval rows -------------------------------------------------------------------

def group_key_fn(inputs: RunInputs):
    """A row's group: its task, or `task@suite` when one task appears in more than one suite."""
    rows = (inputs.tuned.rows if inputs.tuned else []) + (inputs.base.rows if inputs.base else [])
    suites = defaultdict(set)
    for r in rows:
        suites[r["task"]].add(r.get("suite"))
    for side in (inputs.tuned, inputs.base):
        for suite, sc in (side.scores.items() if side and not side.rows else []):
            for task in sc.get("tasks", {}):
                suites[task].add(suite)
    ambiguous = {t for t, s in suites.items() if len(s) > 1}
    return lambda task, suite: f"{task}@{suite}" if task in ambiguous else task


def record_key(row: dict) -> tuple:
    """The prompt a prediction row answered: its suite and record id (the prompt text when it has no id)."""
    return row.get("suite"), row.get("id") if row.get("id") is not None else row.get("prompt")


def pair_rows(base_rows: list[dict], tuned_rows: list[dict]) -> list[tuple[dict, dict]] | None:
    """(base, tuned) rows answering the same prompts, in tuned order; None unless both sides answered
    exactly the same prompts, each once (then only an unpaired comparison is possible)."""
    base = {record_key(r): r for r in base_rows}
    tuned_keys = [record_key(r) for r in tuned_rows]
    if not tuned_rows or len(base) != len(base_rows) or len(set(tuned_keys)) != len(tuned_keys) \
            or set(base) != set(tuned_keys):
        return None
    return [(base[k], r) for k, r in zip(tuned_keys, tuned_rows)]


@dataclass
class TaskScores:
    n: int
    score: float
    ci: tuple[float, float] | None
    values: list[float] | None        # per-record scores when predictions are present
    keys: list[tuple] | None = None   # the prompt each value answered (record_key), for pairing


def task_scores(side, key, cfg: DiagnoseConfig) -> dict[str, TaskScores]:
    """Per group: mean score with its interval, from prediction rows (else from scores.json)."""
    out: dict[str, TaskScores] = {}
    if side is None:
        return out
    if side.rows:
        values, keys = defaultdict(list), defaultdict(list)
        for r in side.rows:
            g = key(r["task"], r.get("suite"))
            values[g].append(float(r.get("score") or 0.0))
            keys[g].append(record_key(r))
        for g, vals in sorted(values.items()):
            out[g] = TaskScores(len(vals), float(np.mean(vals)), stats.mean_ci(vals, cfg.bootstrap, cfg.seed), vals,
                                keys[g])
        return out
    for suite, sc in side.scores.items():
        for task, s in sc.get("tasks", {}).items():
            ci = tuple(s["ci95"]) if s.get("ci95") else None
            out[key(task, suite)] = TaskScores(int(s.get("n", 0)), float(s["score"]), ci, None)
    return out


def _brief(row: dict, **extra) -> dict:
    clip = lambda s, n=300: (s if len(s) <= n else s[:n] + " …") if isinstance(s, str) else s  # noqa: E731
    ref = row.get("reference")
    out = {"id": row.get("id"), "task": row.get("task"), "lang": row.get("lang"), "suite": row.get("suite"),
           "prompt": clip(row.get("prompt") or ""), "prediction": clip(row.get("prediction") or ""),
           "reference": clip(ref if isinstance(ref, str) else
                             (json.dumps(ref, ensure_ascii=False, default=str) if ref is not None else "")),
           "score": row.get("score")}
    out.update(extra)
    return out


def _aligned(a: TaskScores, b: TaskScores) -> tuple[list[float], list[float]] | None:
    """a's and b's per-record values in one order when both scored exactly the same records, else None."""
    if a.values is None or b.values is None or not a.keys or not b.keys:
        return None
    b_by_key = dict(zip(b.keys, b.values))
    if len(b_by_key) != len(b.keys) or len(set(a.keys)) != len(a.keys) or set(a.keys) != set(b_by_key):
        return None
    return a.values, [b_by_key[k] for k in a.keys]


def _diff(a: TaskScores, b: TaskScores, cfg: DiagnoseConfig) -> tuple[tuple[float, float] | None, bool]:
    """(interval of a - b, paired?): paired on the records both scored, else each side resampled alone
    (different records: two tasks, seen vs held-out), else from the two reported intervals."""
    same = _aligned(a, b)
    if same is not None:
        return stats.paired_mean_diff(same[1], same[0], cfg.bootstrap, cfg.seed)[1], True
    if a.values is not None and b.values is not None:
        return stats.diff_ci(a.values, b.values, cfg.bootstrap, cfg.seed), False
    return stats.diff_ci_from_intervals(a.score, a.ci, b.score, b.ci), False


# ---- 1. uneven performance ---------------------------------------------------------------------------

def uneven(inputs: RunInputs, cfg: DiagnoseConfig) -> Finding:
    c = cfg.uneven
    key = group_key_fn(inputs)
    tuned, base = task_scores(inputs.tuned, key, cfg), task_scores(inputs.base, key, cfg)
    table = []
    drops = []
    trained = set(inputs.train_counts)   # an untrained task's drop is forgetting, not unevenness
    for g, t in sorted(tuned.items(), key=lambda kv: kv[1].score):
        row = {"task": g, "n": t.n, "tuned": t.score, "tuned_ci": t.ci}
        b = base.get(g)
        if b is not None:
            d, paired = _diff(b, t, cfg)  # base - tuned: positive = tuning made it worse
            row.update(base=b.score, base_ci=b.ci, delta=t.score - b.score,
                       delta_ci=(-d[1], -d[0]) if d else None, paired=paired)
            if t.n >= cfg.min_n and b.n >= cfg.min_n and (not trained or g.split("@")[0] in trained):
                drops.append(_check("tuned below base", b.score - t.score, d, c.max_drop, g,
                                    f"{g}: base {b.score:.3f} -> tuned {t.score:.3f}" +
                                    ("" if paired else " (unpaired interval: not the same records)")))
        table.append(row)
    judged = {g: t for g, t in tuned.items() if t.n >= cfg.min_n}
    if len(judged) >= 2:
        worst = min(judged, key=lambda g: judged[g].score)
        best = max(judged, key=lambda g: judged[g].score)
        spread = _check("spread", judged[best].score - judged[worst].score, _diff(judged[best], judged[worst], cfg)[0],
                        c.max_spread, worst, f"best {best} {judged[best].score:.3f}, worst {worst} "
                                             f"{judged[worst].score:.3f}")
    else:
        spread = Check("spread", None, None, c.max_spread, "n/a", None, f"fewer than 2 tasks with {cfg.min_n}+ records")
    no_pairs = ("no base run to compare with" if not base else
                f"no task with {cfg.min_n}+ records on both sides")  # say which: a base run can be there, too small
    drop = _worst(drops, "tuned below base", c.max_drop, no_pairs)
    gains = {r["task"]: r for r in table if "delta" in r and r["n"] >= cfg.min_n}
    if len(gains) >= 2:
        hi = max(gains, key=lambda g: gains[g]["delta"])
        lo = min(gains, key=lambda g: gains[g]["delta"])
        gain = _check("gain spread", gains[hi]["delta"] - gains[lo]["delta"],
                      stats.diff_ci_from_intervals(gains[hi]["delta"], gains[hi]["delta_ci"], gains[lo]["delta"],
                                                   gains[lo]["delta_ci"]),
                      c.max_gain_spread, lo, f"largest gain {hi} {gains[hi]['delta']:+.3f}, smallest {lo} "
                                             f"{gains[lo]['delta']:+.3f}")
    else:
        gain = Check("gain spread", None, None, c.max_gain_spread, "n/a", None,
                     "no base run to compare with" if not base else f"fewer than 2 tasks with {cfg.min_n}+ records")
    evidence = []
    flagged = [ch.task for ch in (spread, drop, gain) if ch.status == "fires" and ch.task] or \
              ([spread.task] if spread.task else [])
    rows = inputs.tuned.rows if inputs.tuned else []
    for g in dict.fromkeys(flagged):
        worst_rows = sorted((r for r in rows if key(r["task"], r.get("suite")) == g), key=lambda r: r.get("score") or 0)
        evidence += [_brief(r, why=f"lowest scores of {g}") for r in worst_rows[:cfg.worst]]
    return Finding("uneven", [spread, drop, gain], table, evidence,
                   extra={"worst": spread.task, "drops": [asdict(d) for d in drops if d.status == "fires"]})


# ---- 2. crosstalk ------------------------------------------------------------------------------------

def performed_tasks(rows: list[dict], cfg: DiagnoseConfig, judge=None, log=None) -> tuple[list[tuple[str, bool, str]], str]:
    """(performed task, crossed, reason) per row and the method used: the verdicts stored with the rows
    (`performed`, as `Verdict.to_record` writes it), else the prompt-aware judge (`judge`, for tests: a
    callable like `mtsft.eval.judge.judge_many`), else with `judge: looks_like` the output-only recogniser."""
    method = cfg.crosstalk.judge
    if rows and all("performed" in r for r in rows):       # already judged (`mtsft chat --show-task` rows)
        return [_as_judged(r, Verdict.from_record(r["performed"]), cfg) for r in rows], "stored"
    if method != "looks_like":
        from mtsft import tasks

        judge = judge or judge_many
        known = set(tasks.names())
        idx = [i for i, r in enumerate(rows) if r["task"] in known]
        items = [(request_of(rows[i]), rows[i].get("prediction") or "") for i in idx]
        if log and items:
            log(f"crosstalk: judging {len(items)} outputs against their prompts (the judge trains on its first "
                "use in a process: a few CPU minutes)")
        verdicts = judge(items, [rows[i]["task"] for i in idx]) if items else []
        out = [(r["task"], False, "not a registry task: not judged") for r in rows]
        for i, v in zip(idx, verdicts):
            out[i] = _as_judged(rows[i], v, cfg)
        return out, "judge"
    out = []
    for r in rows:
        like = r.get("looks_like")
        out.append((like or r["task"], bool(like) and like != r["task"], f"output looks like {like}" if like else
                    "output looks like no task"))
    return out, "looks_like"


def _as_judged(row: dict, v, cfg: DiagnoseConfig) -> tuple[str, bool, str]:
    """A verdict as the crosstalk matrix shows it: crossed only when confident; an output that performs no
    task (an echo, a loop) shows as such, uncrossed."""
    crossed = bool(v.crossed) and v.confidence >= cfg.crosstalk.min_confidence
    shown = v.performed_task if crossed or v.performed_task == NO_TASK else row["task"]
    return shown, crossed, getattr(v, "reason", "") + f" (p={v.confidence:.2f})"


def crosstalk(inputs: RunInputs, cfg: DiagnoseConfig, judge=None, log=None) -> Finding:
    c = cfg.crosstalk
    rows = inputs.tuned.rows if inputs.tuned else []
    if not rows:
        return Finding("crosstalk", [Check("crosstalk rate", None, None, c.max_rate, "n/a", None,
                                           f"no {PREDICTIONS}")], note="needs predictions")
    verdicts, method = _crossed_verdicts(rows, cfg, judge, log)
    key = group_key_fn(inputs)
    matrix: dict[str, Counter] = defaultdict(Counter)
    for r, (performed, _, _) in zip(rows, verdicts):
        matrix[r["task"]][performed] += 1
    tuned = _flag_scores(rows, [v[1] for v in verdicts], key)
    base_rows = inputs.base.rows if inputs.base else []
    base_verdicts = _crossed_verdicts(base_rows, cfg, judge)[0] if base_rows else []
    base = _flag_scores(base_rows, [v[1] for v in base_verdicts], key)
    checks, table = _rise_checks("crosstalk", "crossed", tuned, base, c.max_rate, cfg, "outputs perform another task")
    summary = _worst(checks, "crosstalk rise over base" if base else "crosstalk rate", c.max_rate,
                     f"no task with {cfg.min_n}+ records")
    base_crossed = {record_key(r) for r, v in zip(base_rows, base_verdicts) if v[1]}
    crossed_rows = [(r, v) for r, v in zip(rows, verdicts) if v[1]]
    # the summary's task first, and there the outputs whose base answer was not crossed: what tuning added
    crossed_rows.sort(key=lambda rv: (key(rv[0]["task"], rv[0].get("suite")) != summary.task,
                                      record_key(rv[0]) in base_crossed, rv[0]["task"]))
    evidence = [_brief(r, performed=v[0], why=v[2]) for r, v in crossed_rows[:cfg.worst * 2]]
    labels = sorted(set(matrix) | {p for row in matrix.values() for p in row})
    turns = turn_leaks(rows, verdicts, base_rows, base_verdicts, cfg)
    return Finding("crosstalk", [summary], table, evidence,
                   extra={"method": method, "labels": labels,
                          "matrix": [[matrix[i][j] for j in labels] for i in labels],
                          **({"turns": turns} if turns else {})},
                   note=f"performed task read by: {method}" + _base_note(base))


def turn_leaks(rows: list[dict], verdicts: list, base_rows: list[dict], base_verdicts: list,
               cfg: DiagnoseConfig) -> list[dict]:
    """Task switches inside conversations (rows with `turn`: the multi-turn suite): per turn position and
    per previous turn's task, how many outputs performed another task (`crossed`) and how many performed
    the previous turn's task (`leaked`: the last turn's task leaking into this one). The leak share is
    decided like crosstalk: its rise over base on the same turns, else its absolute rate."""
    def groups(row: dict) -> list[str]:
        return [f"turn {row['turn']}"] + ([f"after {row['prev_task']}"] if row.get("prev_task") else [])

    def leaked(row: dict, verdict) -> bool:
        return bool(verdict[1]) and bool(row.get("prev_task")) and verdict[0] == row["prev_task"]

    def shares(side_rows, side_verdicts) -> tuple[dict[str, TaskScores], Counter]:
        values, keys, crossed = defaultdict(list), defaultdict(list), Counter()
        for r, v in zip(side_rows, side_verdicts):
            if r.get("turn") is None:
                continue
            for g in groups(r):
                values[g].append(float(leaked(r, v)))
                keys[g].append(record_key(r))
                crossed[g] += bool(v[1])
        return {g: TaskScores(len(v), float(np.mean(v)), stats.wilson(int(sum(v)), len(v)), v, keys[g])
                for g, v in values.items()}, crossed

    tuned, crossed = shares(rows, verdicts)
    if not tuned:
        return []
    base, base_crossed = shares(base_rows, base_verdicts)
    _, table = _rise_checks("leak", "leaked", tuned, base, cfg.crosstalk.max_rate, cfg,
                            "perform the previous turn's task")
    for row in table:
        group = row.pop("task")
        row.update(by="turn" if group.startswith("turn ") else "previous task", group=group, crossed=crossed[group])
        if group in base:
            row["base_crossed"] = base_crossed[group]
    return sorted(table, key=lambda r: (r["by"] != "turn", int(r["group"][5:]) if r["by"] == "turn" else 0, r["group"]))


def _crossed_verdicts(rows: list[dict], cfg: DiagnoseConfig, judge, log=None) -> tuple[list[tuple[str, bool, str]], str]:
    """(performed, crossed, reason) per row; an empty output performs nothing: a format failure, not crosstalk."""
    judged_rows = [r for r in rows if (r.get("prediction") or "").strip()]
    judged, method = performed_tasks(judged_rows, cfg, judge, log)
    it = iter(judged)
    return [next(it) if (r.get("prediction") or "").strip() else (EMPTY, False, "empty output") for r in rows], method


def _flag_scores(rows: list[dict], flags: list, key) -> dict[str, TaskScores]:
    """Per group: the share of rows with a flag (crossed, violating) as TaskScores over 0/1 values, keyed by
    prompt so that base and tuned pair up."""
    values, keys = defaultdict(list), defaultdict(list)
    for r, flag in zip(rows, flags):
        g = key(r["task"], r.get("suite"))
        values[g].append(float(bool(flag)))
        keys[g].append(record_key(r))
    return {g: TaskScores(len(v), float(np.mean(v)), stats.wilson(int(sum(v)), len(v)), v, keys[g])
            for g, v in values.items()}


def _base_note(base: dict) -> str:
    return "" if base else "; no base run: decided on the tuned model's absolute rate (run with score_base)"


def _rise_checks(label: str, hits: str, tuned: dict[str, TaskScores], base: dict[str, TaskScores], threshold: float,
                 cfg: DiagnoseConfig, what: str) -> tuple[list[Check], list[dict]]:
    """Per group, the rise over base of a flagged share (tuned minus base on the same prompts, with its paired
    interval) decided against `threshold`; the absolute rates beside it. Without a base run the tuned
    model's absolute rate decides (the judge's steady errors then count too: the check says so)."""
    checks, table = [], []
    for g, t in sorted(tuned.items()):
        k = round(sum(t.values))
        row = {"task": g, "n": t.n, hits: k, "rate": t.score, "ci": t.ci}
        b = base.get(g)
        if b is not None:
            kb = round(sum(b.values))
            ci, paired = _diff(t, b, cfg)
            row.update({"base_n": b.n, f"base_{hits}": kb, "base_rate": b.score, "base_ci": b.ci,
                        "rise": t.score - b.score, "rise_ci": ci, "paired": paired})
            check = (f"{label} rise over base", t.score - b.score, ci,
                     f"{g}: tuned {k} of {t.n} ({t.score:.0%}), base {kb} of {b.n} ({b.score:.0%}) {what}" +
                     ("" if paired else " (unpaired interval: base and tuned answered different records)"))
            enough = min(t.n, b.n) >= cfg.min_n
        else:
            check = (f"{label} rate", t.score, t.ci, f"{g}: {k} of {t.n} {what} (no base run: absolute rate)")
            enough = t.n >= cfg.min_n
        if enough:
            checks.append(_check(check[0], check[1], check[2], threshold, g, check[3]))
            row["status"] = checks[-1].status
        table.append(row)
    return checks, table


# ---- 3. format confusion -----------------------------------------------------------------------------

def format_confusion(inputs: RunInputs, cfg: DiagnoseConfig) -> Finding:
    c = cfg.format
    key = group_key_fn(inputs)
    tuned, kinds = _violation_scores(inputs.tuned, key)
    base, _ = _violation_scores(inputs.base, key)
    checks, table = _rise_checks("violation", "violating", tuned, base, c.max_rate, cfg, "break the format")
    for row in table:
        row["kinds"] = dict(kinds[row["task"]].most_common())
        top = ", ".join(f"{k} {v}" for k, v in kinds[row["task"]].most_common(3))
        for check in checks:
            if check.task == row["task"] and top:
                check.detail += f" ({top})"
    summary = _worst(checks, "violation rise over base" if base else "violation rate", c.max_rate,
                     f"no task with {cfg.min_n}+ records")
    rows = inputs.tuned.rows if inputs.tuned else []
    bad = [r for r in rows if r.get("violations")]
    bad.sort(key=lambda r: key(r["task"], r.get("suite")) != summary.task)
    evidence = [_brief(r, violations=r["violations"]) for r in bad[:cfg.worst]]
    return Finding("format", [summary], table, evidence, note=_base_note(base).removeprefix("; "))


def _violation_scores(side: EvalSide | None, key) -> tuple[dict[str, TaskScores], dict[str, Counter]]:
    """Per group: the share of outputs with a format violation (per record from predictions, else counts
    from scores.json: those pair with nothing), and the violations by kind."""
    kinds: dict[str, Counter] = defaultdict(Counter)
    if side is None:
        return {}, kinds
    if side.rows:
        for r in side.rows:
            kinds[key(r["task"], r.get("suite"))].update(r.get("violations") or [])
        return _flag_scores(side.rows, [bool(r.get("violations")) for r in side.rows], key), kinds
    out = {}
    for suite, sc in side.scores.items():
        for task, s in sc.get("tasks", {}).items():
            n = int(s.get("n", 0))
            bad = round(n * (1 - float(s.get("format_ok", 1.0))))
            if n:
                values = [1.0] * bad + [0.0] * (n - bad)
                out[key(task, suite)] = TaskScores(n, bad / n, stats.wilson(bad, n), values)
                kinds[key(task, suite)].update(s.get("violations") or {})
    return out, kinds


# ---- 4. forgetting -----------------------------------------------------------------------------------

def general_rows(inputs: RunInputs, cfg: DiagnoseConfig) -> tuple[set, str]:
    """Which eval rows count as general prompts: (their tasks, why)."""
    rows = inputs.tuned.rows if inputs.tuned else []
    if any(r.get("suite") == "general" for r in rows):
        return {"suite:general"}, "rows of the `general` suite"
    present = {r["task"] for r in rows}
    if inputs.train_counts:
        untrained = present - set(inputs.train_counts)
        if untrained:
            return untrained, "tasks the run did not train on"
    chosen = present & set(cfg.forgetting.general_tasks)
    return chosen, "the configured general tasks (forgetting.general_tasks)"


def _perplexity_check(inputs: RunInputs, cfg: DiagnoseConfig, extra: dict) -> Check:
    """General held-out perplexity, tuned / base - 1, with its interval over texts resampled in pairs."""
    c, ppl = cfg.forgetting, inputs.perplexity
    if not (ppl and ppl.get("base") and ppl.get("tuned")):
        return Check("perplexity increase", None, None, c.max_ppl_increase, "n/a", None,
                     (ppl or {}).get("error") or "not computed (needs the models; `mtsft diagnose --perplexity`)")
    nb, nt = np.asarray(ppl["base"]["nll"], float), np.asarray(ppl["tuned"]["nll"], float)
    tok = np.asarray(ppl["base"]["tokens"], float)
    fn = lambda b, t, k: math.exp((t.sum() - b.sum()) / max(k.sum(), 1.0)) - 1  # noqa: E731
    value, ci = stats.paired_stat_ci(fn, [nb, nt, tok], cfg.bootstrap, cfg.seed)
    pb, pt = math.exp(nb.sum() / tok.sum()), math.exp(nt.sum() / tok.sum())
    extra["perplexity"] = {"base": pb, "tuned": pt, "texts": len(nb), "tokens": int(tok.sum())}
    return _check("perplexity increase", value, ci, c.max_ppl_increase, "general text",
                  f"general held-out perplexity {pb:.2f} -> {pt:.2f} over {len(nb)} texts")


def general_pairs(inputs: RunInputs, which: set, langs: list[str]) -> list[tuple[dict, dict]]:
    """(base row, tuned row) of every general prompt in `langs` (empty: any) both models answered, in
    tuned order."""
    base_rows = {record_key(r): r for r in (inputs.base.rows if inputs.base else [])}
    pairs = []
    for r in inputs.tuned.rows if inputs.tuned else []:
        if langs and r.get("lang") not in langs:
            continue
        if ("suite:general" in which and r.get("suite") == "general") or r["task"] in which:
            b = base_rows.get(record_key(r))
            if b is not None:
                pairs.append((b, r))
    return pairs


def _score(row: dict) -> float:
    return float(row.get("score") or 0.0)


def _mean_drop(b, t) -> float:
    return float((b - t).mean())


def general_drop(pairs: list[tuple[dict, dict]], label: str, why: str, cfg: DiagnoseConfig) -> tuple[Check, dict]:
    """The general prompts' score drop, base minus tuned in score points on the same prompts, with its
    paired bootstrap interval (prompts resampled). A difference of bounded scores stays within [-1, 1]
    whatever base scores; a ratio to base's mean (the old measure) blew up on a base near zero
    ([-650%, 84.5%] on the demo). When base's mean is at most the threshold the prompts leave no room
    for a drop above it: the check says so (n/a) instead of a vacuous ok."""
    c = cfg.forgetting
    bs = np.array([_score(b) for b, _ in pairs])
    ts = np.array([_score(t) for _, t in pairs])
    value, ci = stats.paired_stat_ci(_mean_drop, [bs, ts], cfg.bootstrap, cfg.seed)
    detail = f"{len(pairs)} general prompts ({why}: {label}): base {bs.mean():.3f} -> tuned {ts.mean():.3f}"
    check = _check("general score drop", value, ci, c.max_score_drop, label, detail)
    if bs.mean() <= c.max_score_drop:
        check.status = "n/a"
        check.detail += (f"; base scores {bs.mean():.3f} here, at most the threshold: no room for a drop above it "
                         "(choose general prompts base does well on: forgetting.general_tasks)")
    return check, {"base": float(bs.mean()), "tuned": float(ts.mean()), "n": len(pairs), "which": label,
                   "why": why, "drop": value, "drop_ci": ci}


def _general_table(pairs: list[tuple[dict, dict]], cfg: DiagnoseConfig) -> list[dict]:
    """Per general task: base and tuned means and the paired drop (score points) with its interval."""
    by_task = defaultdict(list)
    for b, t in pairs:
        by_task[t["task"]].append((_score(b), _score(t)))
    table = []
    for task, scores in sorted(by_task.items()):
        bs, ts = np.array([x for x, _ in scores]), np.array([y for _, y in scores])
        drop, ci = stats.paired_stat_ci(_mean_drop, [bs, ts], cfg.bootstrap, cfg.seed)
        table.append({"task": task, "n": len(scores), "base": float(bs.mean()), "tuned": float(ts.mean()),
                      "drop": drop, "drop_ci": ci})
    return table


def forgetting(inputs: RunInputs, cfg: DiagnoseConfig) -> Finding:
    c = cfg.forgetting
    extra: dict = {}
    checks = [_perplexity_check(inputs, cfg, extra)]
    which, why = general_rows(inputs, cfg)
    if c.general_langs:
        why += f", in {'/'.join(c.general_langs)} (forgetting.general_langs)"
    pairs = general_pairs(inputs, which, c.general_langs)
    if len(pairs) < cfg.min_n:
        checks.append(Check("general score drop", None, None, c.max_score_drop, "n/a", None,
                            f"fewer than {cfg.min_n} general prompts scored by both base and tuned ({why})"))
        return Finding("forgetting", checks, [], [], extra)
    names = sorted(t.replace("suite:", "") for t in which)
    label = ", ".join(names) if len(names) <= 3 else f"{len(names)} general tasks"
    check, extra["general"] = general_drop(pairs, label, why, cfg)
    checks.append(check)
    pairs.sort(key=lambda bt: _score(bt[1]) - _score(bt[0]))
    evidence = [_brief(t, base_prediction=(b.get("prediction") or "")[:300], base_score=b.get("score"))
                for b, t in pairs[:cfg.worst] if _score(t) < _score(b)]
    return Finding("forgetting", checks, _general_table(pairs, cfg), evidence, extra)


# ---- 5. overfitting to frequent tasks ----------------------------------------------------------------

def loss_curves(rows: list[dict]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{task: {split: [(global step, loss)]}}, stages in order (steps restart per stage: offset them)."""
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    offset, last_stage, stage_max = 0, None, 0
    for r in rows:
        if r["stage"] != last_stage:
            offset += stage_max if last_stage is not None else 0
            last_stage, stage_max = r["stage"], 0
        stage_max = max(stage_max, r["step"])
        out[r["task"]][r["split"]].append((offset + r["step"], r["loss"]))
    return {t: dict(v) for t, v in out.items()}


def overfit(inputs: RunInputs, cfg: DiagnoseConfig) -> Finding:
    c = cfg.overfit
    shares = inputs.shares
    table, gaps = [], []
    curves = loss_curves(inputs.task_loss)
    last_stage = inputs.task_loss[-1]["stage"] if inputs.task_loss else None
    for task in sorted(curves):
        stage_rows = [r for r in inputs.task_loss if r["task"] == task and r["stage"] == last_stage]
        train = [r["loss"] for r in stage_rows if r["split"] == "train"]
        ev = [r["loss"] for r in stage_rows if r["split"] == "eval"]
        row = {"task": task, "share": shares.get(task)}
        if train and ev:
            tr = float(np.mean(train[-c.smooth:]))
            all_eval = [loss for _, loss in curves[task].get("eval", [])]
            row.update(train=tr, eval=ev[-1], gap=ev[-1] - tr, eval_rise=ev[-1] - min(all_eval))
            gaps.append(_check("eval - train loss", ev[-1] - tr, None, c.max_loss_gap, task,
                               f"{task}: train {tr:.3f}, eval {ev[-1]:.3f}" +
                               (f", {shares[task]:.0%} of the mixture" if task in shares else "")))
        table.append(row)
    gap = _worst(gaps, "eval - train loss", c.max_loss_gap, "no per-task train and eval losses (task_loss.csv)")
    # score (gain over base when there is a base) against mixture share
    key = group_key_fn(inputs)
    tuned, base = task_scores(inputs.tuned, key, cfg), task_scores(inputs.base, key, cfg)
    points = []
    for task, share in shares.items():
        if task in tuned and task in base and tuned[task].n >= cfg.min_n:
            points.append((task, share, tuned[task].score - base[task].score))
    what = "gain over base"   # raw scores would mostly say which tasks are easy
    corr = Check("share-score correlation", None, None, c.max_share_corr, "n/a", None,
                 "needs the training mixture and base and tuned per-task scores")
    if len(points) >= c.min_tasks:
        s = [p[1] for p in points]
        ratio = max(s) / max(min(s), 1e-9)
        rho = stats.spearman(s, [p[2] for p in points])
        if ratio < c.min_share_ratio:
            corr.detail = f"shares within {ratio:.1f}x of each other: no frequent tasks to overfit to"
        elif rho is not None:
            frequent = max(points, key=lambda p: p[1])[0]
            corr = _check("share-score correlation", rho, None, c.max_share_corr, frequent,
                          f"Spearman rho of mixture share and {what} over {len(points)} tasks (shares {ratio:.1f}x apart)")
    seen = seen_gap(inputs, cfg, table)
    for row in table:
        for task, share, gain in points:
            if row["task"] == task:
                row[what] = gain
    fired = [g for g in gaps + seen if g.status == "fires"]
    flagged = list(dict.fromkeys(g.task for g in fired))
    evidence = [{"task": g.task, "why": g.detail, "gap": g.value} for g in fired]
    return Finding("overfit", [gap, corr, _worst(seen, "seen - held-out score", c.max_seen_gap,
                                                 "no seen-content eval (mtsft run's eval_seen stage)")], table, evidence,
                   extra={"curves": curves, "points": points, "flagged": flagged, "what": what})


def seen_gap(inputs: RunInputs, cfg: DiagnoseConfig, table: list[dict]) -> list[Check]:
    """Per task: the tuned model's score on content it trained on minus on held-out content of the same
    generators (the built-in suite). A large gap is memorisation, which a loss gap can miss."""
    if inputs.seen is None or inputs.tuned is None:
        return []
    by_task = lambda task, suite: task  # noqa: E731
    builtin = [r for r in inputs.tuned.rows if r.get("suite") == "builtin"] or inputs.tuned.rows
    held = task_scores(EvalSide(inputs.tuned.path, builtin), by_task, cfg)
    checks = []
    for task, s in task_scores(inputs.seen, by_task, cfg).items():
        h = held.get(task)
        if h is None or min(s.n, h.n) < cfg.min_n:
            continue
        checks.append(_check("seen - held-out score", s.score - h.score, _diff(s, h, cfg)[0], cfg.overfit.max_seen_gap,
                             task, f"{task}: seen content {s.score:.3f}, held-out {h.score:.3f}"))
        row = next((r for r in table if r["task"] == task), None)
        if row is None:
            table.append(row := {"task": task, "share": inputs.shares.get(task)})
        row.update(seen=s.score, held_out=h.score)
    return checks


def measure_all(inputs: RunInputs, cfg: DiagnoseConfig | None = None, *, judge=None, log=None) -> list[Finding]:
    cfg = cfg or DiagnoseConfig()
    return [uneven(inputs, cfg), crosstalk(inputs, cfg, judge, log), format_confusion(inputs, cfg),
            forgetting(inputs, cfg), overfit(inputs, cfg)]
