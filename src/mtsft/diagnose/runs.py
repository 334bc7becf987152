"""Many runs at once: `mtsft runs ls` lists the run folders under a folder, `mtsft runs compare` puts their
per-task scores side by side and writes one self-contained HTML page.

A run folder is any of
    a `mtsft run` output    config.yaml beside train/ and eval_tuned/ (its tuned model's scores are compared)
    a `mtsft train` output  run.json (model, method, data; no scores until it is evaluated)
    a `mtsft eval run` output  SUITE/scores.json (and SUITE/predictions.jsonl), or one suite folder itself

Every run after the first is compared with the first by `compare.compare_runs`, the comparison `eval run
--compare` prints: where the two answered the same records the change carries its paired 95% interval;
where they answered different records (or one kept no per-record scores) the interval is "n/a" and says why,
since an unpaired interval on two different prompt sets would mix the prompts' difficulty into the change.
Two runs or twenty go through the same code.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field

from mtsft import runfiles
from mtsft.config import Seed, StrictConfig
from mtsft.diagnose.compare import compare_runs

PAGE = "compare.html"      # what `runs compare --out DIR` writes, beside COMPARISON (every number)
COMPARISON = "compare.json"
RUN_CONFIG = "config.yaml"  # a `mtsft run` folder's run config (mtsft.run.write_run_config)
RUN_EVALS = {"tuned": "eval_tuned", "base": "eval_base"}   # a `mtsft run` folder's eval stages


class RunsConfig(StrictConfig):
    """`mtsft runs ls` and `mtsft runs compare`."""

    depth: int = Field(3, ge=1, le=20)            # ls: how many folders down to look for runs
    eval: Literal["tuned", "base"] = "tuned"     # which model of a `mtsft run` folder is compared
    samples: int = Field(1000, ge=100)            # bootstrap resamples per interval
    seed: Seed = 0


@dataclass
class RunEntry:
    """One run folder as `runs ls` shows it."""

    path: str
    kind: str                      # run | train | eval
    model: str | None = None
    method: str | None = None      # lora | qlora | full | base (an eval without an adapter)
    records: int | None = None     # training records (run, train) or records evaluated (eval)
    tokens: int | None = None      # tokens trained on (run, train)
    date: str | None = None        # when it finished (else when its last file was written), minutes
    macro: dict[str, float] = field(default_factory=dict)   # suite -> mean of its task scores
    eval_dir: str | None = None    # the eval output `runs compare` reads (None: nothing scored yet)


# ---- finding and describing runs ------------------------------------------------------------------------

def find_runs(root: str | Path, cfg: RunsConfig | None = None) -> list[RunEntry]:
    """Every run folder under `root` (itself included), at most `cfg.depth` folders down; a run's own
    sub-folders (train/, eval_tuned/) are parts of it, not runs of their own."""
    cfg = cfg or RunsConfig()
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    found: list[RunEntry] = []

    def walk(folder: Path, depth: int) -> None:
        entry = describe_run(folder, cfg)
        if entry is not None:
            found.append(entry)
            return
        if depth >= cfg.depth:
            return
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            walk(sub, depth + 1)

    walk(root, 0)
    return found


def _kind(folder: Path) -> str | None:
    if runfiles.run_info_path(folder).is_file():
        return "train"
    if (folder / RUN_CONFIG).is_file() and any((folder / d).is_dir() for d in ("train", *RUN_EVALS.values())):
        return "run"
    if runfiles.suite_folders(folder):
        return "eval"
    return None


def describe_run(folder: str | Path, cfg: RunsConfig | None = None) -> RunEntry | None:
    """What `runs ls` shows of `folder`, None when it is no run folder."""
    cfg = cfg or RunsConfig()
    folder = Path(folder)
    kind = _kind(folder)
    if kind is None:
        return None
    entry = RunEntry(path=str(folder), kind=kind)
    if kind == "train":
        _from_train(entry, runfiles.read_run_info(folder) or {})
    elif kind == "run":
        _from_train(entry, runfiles.read_run_info(folder / "train") or {})
        entry.model = _run_config(folder).get("model") or entry.model
        scored = folder / RUN_EVALS[cfg.eval]
        if runfiles.suite_folders(scored):
            entry.eval_dir = str(scored)
            entry.macro = _macros(scored)
        entry.date = entry.date or _modified(folder / RUN_CONFIG)
    else:
        _from_eval(entry, folder)
    return entry


def _run_config(folder: Path) -> dict:
    try:
        data = yaml.safe_load((folder / RUN_CONFIG).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _from_train(entry: RunEntry, info: runfiles.RunInfoData) -> None:
    data, metrics = info.get("data") or {}, info.get("metrics") or {}
    entry.model = (info.get("config") or {}).get("model")
    entry.method = info.get("method")
    entry.records = data.get("records")
    entry.tokens = metrics.get("tokens")
    stamp = info.get("finished") or info.get("started")
    entry.date = stamp.replace("T", " ")[:16] if isinstance(stamp, str) else None


def _from_eval(entry: RunEntry, folder: Path) -> None:
    entry.eval_dir = str(folder)
    entry.macro = _macros(folder)
    suites = runfiles.suite_folders(folder)
    scores = [s for s in (runfiles.read_scores(f) for f in suites) if s]
    run = next((s.get("run") for s in scores if s.get("run")), {}) or {}
    entry.model = run.get("model")
    adapter = run.get("adapter")
    info = runfiles.read_run_info(adapter) if adapter and Path(adapter).is_dir() else None
    entry.method = (info or {}).get("method") or ("adapter" if adapter else "base")
    entry.records = sum((s.get("overall") or {}).get("n") or 0 for s in scores) or None
    entry.date = max((_modified(runfiles.scores_path(f)) or "" for f in suites), default="") or None


def _macros(eval_dir: Path) -> dict[str, float]:
    """Per suite folder: the mean of its task scores (scores.json), the headline `runs ls` shows."""
    out = {}
    for folder in runfiles.suite_folders(eval_dir):
        tasks = ((runfiles.read_scores(folder) or {}).get("tasks") or {}).values()
        values = [t["score"] for t in tasks if isinstance(t, dict) and isinstance(t.get("score"), (int, float))]
        if values:
            out[folder.name] = sum(values) / len(values)
    return out


def _modified(path: Path) -> str | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        return None


# ---- comparing ------------------------------------------------------------------------------------------

@dataclass
class Comparison:
    """Runs side by side. `rows`: per suite and task {suite, task, metric, n (the first run's), scores
    [per run], changes [None for the first run, then {delta, ci, paired, decided, why} against it]}."""

    runs: list[RunEntry]
    names: list[str]
    rows: list[dict]

    def to_dict(self) -> dict:
        return {"runs": [asdict(r) | {"name": n} for r, n in zip(self.runs, self.names)], "rows": self.rows}


def resolve_run(path: str | Path, cfg: RunsConfig) -> RunEntry:
    """A RUN argument as a run with scores, or a one-line error saying what the folder is missing."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such run folder")
    entry = describe_run(path, cfg)
    if entry is None:
        raise ValueError(f"{path}: not a run folder (no {runfiles.SCORES} under it, no {runfiles.RUN_INFO}, "
                         f"no {RUN_CONFIG}); `mtsft runs ls` lists the runs under a folder")
    if entry.eval_dir is None:
        what = (f"a training run with no scores: evaluate it with `mtsft eval run --adapter {path} --out DIR` "
                "and compare DIR") if entry.kind == "train" else f"a `mtsft run` folder with no {RUN_EVALS[cfg.eval]}/"
        raise ValueError(f"{path}: {what}")
    return entry


def run_names(paths: list[str | Path]) -> list[str]:
    """Short names that tell the runs apart: the folder's name, with as many parents as it takes."""
    parts = [Path(p).resolve().parts for p in paths]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(p) for p in paths]      # the same folder given twice


def compare_many(paths: list[str | Path], cfg: RunsConfig | None = None) -> Comparison:
    """Every run's per-task scores, and each later run's change from the first with its paired interval."""
    cfg = cfg or RunsConfig()
    if len(paths) < 2:
        raise ValueError("runs compare needs two runs or more (the first is the one the others are compared with)")
    runs = [resolve_run(p, cfg) for p in paths]
    evals = [r.eval_dir for r in runs]
    first_rows = compare_runs([evals[0]], samples=cfg.samples, seed=cfg.seed)
    pairs = [compare_runs([evals[0], other], samples=cfg.samples, seed=cfg.seed) for other in evals[1:]]
    has_rows = [_suites_with_rows(e) for e in evals]
    rows: dict[tuple[str, str], dict] = {}
    for i, pair in enumerate(pairs, 1):
        for r in pair:
            row = rows.setdefault((r["suite"], r["task"]), {
                "suite": r["suite"], "task": r["task"], "metric": r["metric"], "n": None,
                "scores": [r["scores"][0], *[None] * len(pairs)], "changes": [None] * (len(pairs) + 1)})
            row["metric"] = row["metric"] or r["metric"]
            row["scores"][i] = r["scores"][1]
            row["changes"][i] = _change(r, has_rows[0], has_rows[i])
    for r in first_rows:
        if (r["suite"], r["task"]) in rows:
            rows[(r["suite"], r["task"])]["n"] = r["n"]
    order = lambda key: (key[0] == "all", key[0], {"overall": 1, "macro": 2}.get(key[1], 0), key[1])  # noqa: E731
    return Comparison(runs=runs, names=run_names(paths), rows=[rows[k] for k in sorted(rows, key=order)])


def _suites_with_rows(eval_dir: str) -> set[str]:
    return {f.name for f in runfiles.suite_folders(eval_dir) if runfiles.predictions_path(f).is_file()}


def _change(row: dict, first_rows: set[str], other_rows: set[str]) -> dict | None:
    """One run's change from the first: paired interval, or n/a and why."""
    if row["delta"] is None:
        return None
    paired = bool(row["paired"])
    why = None
    if not paired:      # both sides kept per-record scores, so the records differ; else the scores are missing
        both = first_rows & other_rows
        suites = both if row["suite"] == "all" else {row["suite"]}
        why = "different records" if suites and suites <= both else "no per-record scores"
    return {"delta": row["delta"], "ci": row["delta_ci"] if paired else None, "paired": paired,
            "decided": paired and row["decided"], "why": why}


def change_text(change: dict | None) -> str:
    """`+0.031* [+0.010, +0.052]`, or `+0.031 n/a (different records)`; * = the interval excludes 0."""
    if change is None:
        return ""
    delta = f"{change['delta']:+.3f}{'*' if change['decided'] else ''}"
    ci = change["ci"]
    if ci:
        return f"{delta} [{ci[0]:+.3f}, {ci[1]:+.3f}]"
    return f"{delta} n/a ({change['why']})" if change["why"] else delta


def score_text(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def table_rows(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """The comparison as a header and text rows (the CLI prints them; the page shows the same)."""
    head = ["suite", "task", "metric", "n", comparison.names[0],
            *[f"{name} (change vs {comparison.names[0]})" for name in comparison.names[1:]]]
    body = []
    for r in comparison.rows:
        cells = [score_text(r["scores"][0])]
        for score, change in zip(r["scores"][1:], r["changes"][1:]):
            cells.append(" ".join(t for t in (score_text(score), change_text(change)) if t))
        body.append([r["suite"], r["task"], r["metric"] or "", "" if r["n"] is None else str(r["n"]), *cells])
    return head, body


def list_rows(entries: list[RunEntry]) -> tuple[list[str], list[list[str]]]:
    """`runs ls` as a header and text rows (paths as found: under the folder given)."""
    head = ["run", "kind", "model", "method", "records", "tokens", "date", "macro per suite"]
    body = []
    for e in entries:
        macro = "  ".join(f"{suite} {score:.3f}" for suite, score in sorted(e.macro.items()))
        body.append([e.path, e.kind, e.model or "", e.method or "", "" if e.records is None else f"{e.records:,}",
                     "" if e.tokens is None else f"{e.tokens:,}", e.date or "", macro])
    return head, body


# ---- the page -----------------------------------------------------------------------------------------

CSS = """body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;max-width:1400px;margin:1.5em auto;
color:#222;line-height:1.4;padding:0 1em}table{border-collapse:collapse;font-size:13px;margin:.8em 0}
td,th{padding:3px 9px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tr.sum td{font-weight:600;background:#fafafa}
.up{color:#1a7f37;font-weight:600}.down{color:#cf222e;font-weight:600}.na{color:#777}.ci{color:#555;font-size:12px}
code{background:#f3f3f3;padding:1px 4px}img{max-width:100%}h2{border-bottom:2px solid #eee;padding-bottom:.2em}"""

NOTE = ("Each later run's change from the first (later minus first) with its paired 95% bootstrap interval: "
        "both runs answered the same records, so prompts are resampled with their two answers kept together. "
        "* and colour: the interval excludes 0. n/a: the two runs answered different records (or one kept no "
        "per-record scores), where a paired interval does not exist. macro: the mean of the suite's task "
        "means; overall: its records pooled.")


def render_html(comparison: Comparison) -> str:
    """One self-contained page: the runs, the table, the figure (a base64 PNG): no file beside it needed."""
    from mtsft.diagnose import plots

    e = html.escape
    names = comparison.names
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>mtsft runs compare</title>",
             f"<style>{CSS}</style></head><body><h1>Runs compared ({len(names)})</h1>", "<h2>Runs</h2>"]
    head, body = list_rows(comparison.runs)
    parts.append(_html_table(["name", "path", *head[1:]], [[n, *row] for n, row in zip(names, body)],
                             numeric={5, 6}))
    parts.append(f"<h2>Per-task scores</h2><p>{e(NOTE)}</p>")
    parts.append(_scores_table(comparison))
    figure = plots.to_base64(_figure(comparison))
    parts.append(f"<figure><img alt='per-task change from {e(names[0])}' src='data:image/png;base64,{figure}'>"
                 "</figure></body></html>")
    return "\n".join(parts)


def _html_table(head: list[str], body: list[list[str]], numeric: set[int]) -> str:
    e = html.escape
    rows = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    for row in body:
        rows.append("<tr>" + "".join(f"<td class='num'>{e(c)}</td>" if i in numeric else f"<td>{e(c)}</td>"
                                     for i, c in enumerate(row)) + "</tr>")
    return "\n".join(rows) + "</table>"


def _scores_table(comparison: Comparison) -> str:
    e = html.escape
    names = comparison.names
    head = "".join(f"<th>{e(h)}</th>" for h in ["suite", "task", "metric", "n", names[0]])
    head += "".join(f"<th>{e(n)}</th><th>change vs {e(names[0])} (95% interval)</th>" for n in names[1:])
    out = [f"<table><tr>{head}</tr>"]
    for r in comparison.rows:
        cls = " class='sum'" if r["task"] in ("overall", "macro") else ""
        cells = [e(r["suite"]), e(r["task"]), e(r["metric"] or "")]
        cells = [f"<td>{c}</td>" for c in cells] + [f"<td class='num'>{'' if r['n'] is None else r['n']}</td>",
                                                    f"<td class='num'>{score_text(r['scores'][0])}</td>"]
        for score, change in zip(r["scores"][1:], r["changes"][1:]):
            cells.append(f"<td class='num'>{score_text(score)}</td><td class='num'>{_change_html(change)}</td>")
        out.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return "\n".join(out) + "</table>"


def _change_html(change: dict | None) -> str:
    if change is None:
        return ""
    cls = ("up" if change["delta"] > 0 else "down") if change["decided"] else ""
    delta = f"<span class='{cls}'>{change['delta']:+.3f}{'*' if change['decided'] else ''}</span>"
    if change["ci"]:
        lo, hi = change["ci"]
        return f"{delta} <span class='ci'>[{lo:+.3f}, {hi:+.3f}]</span>"
    return f"{delta} <span class='na'>n/a ({html.escape(change['why'] or '')})</span>"


def _figure(comparison: Comparison):
    """Per task (macro rows last): every run's score as a dot, each later run's paired change interval
    drawn around its dot when there is one. One row per task keeps twenty runs as readable as two."""
    import matplotlib.pyplot as plt

    from mtsft.diagnose import plots

    plots.cjk_font()
    rows = [r for r in comparison.rows if r["task"] != "overall"]
    labels = [f"{r['suite']} · {r['task']}" for r in rows]
    n = len(comparison.names)
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) * (1 + n / 6) + 1.6))
    colors = plt.get_cmap("tab10" if n <= 10 else "tab20")
    step = 0.7 / max(1, n - 1) if n > 1 else 0
    for i, name in enumerate(comparison.names):
        for j, r in enumerate(rows):
            score = r["scores"][i]
            if score is None:
                continue
            y = j - 0.35 + i * step
            change = r["changes"][i]
            err = None
            if change and change["ci"]:   # the interval of the change, placed around this run's score
                lo, hi = change["ci"]
                err = [[max(0.0, change["delta"] - lo)], [max(0.0, hi - change["delta"])]]
            ax.errorbar(score, y, xerr=err, fmt="o", ms=4, color=colors(i % colors.N), capsize=2, lw=0.9,
                        label=name if j == 0 else None)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-0.02, max(1.0, ax.get_xlim()[1]))
    ax.set_xlabel(f"score; bars: the paired 95% interval of the change from {comparison.names[0]}")
    ax.set_title("per-task scores, runs side by side")
    ax.grid(axis="x", color="#eee")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def write_comparison(comparison: Comparison, out: str | Path) -> dict[str, Path]:
    """OUT/compare.html and OUT/compare.json into an mtsft folder (never one holding the user's files, never
    a run folder it reads)."""
    from mtsft.outputs import claim_folder, write_json_atomic, write_text_atomic

    folder = claim_folder(out, selective=[r.path for r in comparison.runs])
    paths = {"html": folder / PAGE, "json": folder / COMPARISON}
    write_text_atomic(paths["html"], render_html(comparison))
    write_json_atomic(paths["json"], comparison.to_dict(), indent=1)
    return paths
