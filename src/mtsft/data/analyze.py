"""`mtsft data analyze`: what is in a data set, per task and language, before anyone curates it.

Counts, token lengths (percentiles, with the model's tokenizer or the stated estimate), turns, exact and
near duplicate rates, and each task's share of the mixture; as rows (for the terminal table and JSON) and
as an HTML page with plots.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mtsft.data import plots
from mtsft.data.common import length_method, token_lengths
from mtsft.data.config import DedupConfig
from mtsft.data.page import CSS
from mtsft.data.dedup import conversation_key, near_duplicate_clusters
from mtsft.data.shingles import stable_hash
from mtsft.records import assistant_turns, conversation_text, task_of


@dataclass
class Analysis:
    rows: list[dict]                     # one per (task, lang), plus totals per task
    lengths: dict[str, list[int]]        # tokens per record, by task
    by_lang: dict[str, dict[str, int]]   # task -> lang -> count
    total: int
    length_method: str
    rejected: list[str] = field(default_factory=list)  # "file:line: reason" of input lines that could not be read

    def task_rows(self) -> list[dict]:
        return [r for r in self.rows if r["lang"] == "all"]


def _duplicate_flags(records: list[dict], near: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per record: is it an exact / near copy of an earlier record (the first of each cluster is not)?"""
    keys = [stable_hash(conversation_key(r)) for r in records]
    seen, exact = set(), np.zeros(len(records), dtype=bool)
    for i, k in enumerate(keys):
        exact[i] = k in seen
        seen.add(k)
    near_flags = np.zeros(len(records), dtype=bool)
    if near and len(records) > 1:
        labels, _ = near_duplicate_clusters(records, DedupConfig())
        first = {}
        for i, label in enumerate(labels):
            near_flags[i] = label in first
            first.setdefault(label, i)
    return exact, near_flags & ~exact


def _row(task: str, lang: str, idx: list[int], lengths, turns, exact, near, total) -> dict:
    ls = lengths[idx]
    return {"task": task, "lang": lang, "count": len(idx), "share": len(idx) / total,
            "tokens_p50": int(np.percentile(ls, 50)), "tokens_p90": int(np.percentile(ls, 90)),
            "tokens_p99": int(np.percentile(ls, 99)), "tokens_max": int(ls.max()),
            "turns_mean": round(float(turns[idx].mean()), 2),
            "exact_dup_rate": round(float(exact[idx].mean()), 4), "near_dup_rate": round(float(near[idx].mean()), 4)}


def analyze(records: list[dict], tokenizer=None, near: bool = True, show: bool = True) -> Analysis:
    records = [r for r in records if r.get("messages")]
    if not records:
        raise ValueError("no records to analyze")
    lengths = token_lengths([conversation_text(r) for r in records], tokenizer, show=show)
    turns = np.array([len(assistant_turns(r)) for r in records])
    exact, near_flags = _duplicate_flags(records, near)
    groups = defaultdict(list)
    for i, r in enumerate(records):
        groups[(task_of(r), r.get("lang") or "?")].append(i)
    rows = []
    for task in sorted({t for t, _ in groups}):
        all_idx = [i for (t, _), idx in groups.items() if t == task for i in idx]
        rows.append(_row(task, "all", sorted(all_idx), lengths, turns, exact, near_flags, len(records)))
        for (t, lang), idx in sorted(groups.items()):
            if t == task:
                rows.append(_row(task, lang, idx, lengths, turns, exact, near_flags, len(records)))
    by_lang = defaultdict(Counter)
    for (t, lang), idx in groups.items():
        by_lang[t][lang] += len(idx)
    by_task = defaultdict(list)
    for i, r in enumerate(records):
        by_task[task_of(r)].append(int(lengths[i]))
    return Analysis(rows, dict(by_task), {t: dict(c) for t, c in by_lang.items()}, len(records),
                    length_method(tokenizer))


COLUMNS = [("task", "task"), ("lang", "lang"), ("count", "n"), ("share", "share"),
           ("tokens_p50", "p50"), ("tokens_p90", "p90"), ("tokens_p99", "p99"),
           ("tokens_max", "max"), ("turns_mean", "turns"), ("exact_dup_rate", "dup"),
           ("near_dup_rate", "near")]


def fmt(key: str, value) -> str:
    if key in ("share", "exact_dup_rate", "near_dup_rate"):
        return f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def rich_table(analysis: Analysis):
    from rich.table import Table

    table = Table(title=f"{analysis.total:,} records", caption=f"p50..max: tokens per record ({analysis.length_method}); "
                  "dup / near: share that copies an earlier record exactly / nearly")
    for _, label in COLUMNS:
        table.add_column(label, justify="left" if label in ("task", "lang") else "right", no_wrap=True)
    for row in analysis.rows:
        style = "bold" if row["lang"] == "all" else "dim"
        table.add_row(*[fmt(k, row[k]) if not (k == "task" and row["lang"] != "all") else "" for k, _ in COLUMNS],
                      style=style)
    return table


def html_table(rows: list[dict]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in COLUMNS)
    body = "".join(
        f"<tr class='{'task' if r['lang'] == 'all' else 'lang'}'>"
        + "".join(f"<td>{html.escape(fmt(k, r[k]))}</td>" for k, _ in COLUMNS) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def analysis_html(analysis: Analysis, title: str) -> str:
    task_rows = analysis.task_rows()
    figs = [
        plots.img_tag(plots.counts_by_lang(analysis.by_lang, "Records per task and language"), "counts"),
        plots.img_tag(plots.shares({r["task"]: r["share"] for r in task_rows}, "Share of the mixture", "share"), "shares"),
        plots.img_tag(plots.length_boxes(analysis.lengths, "Conversation length per task"), "lengths"),
        plots.img_tag(plots.shares({r["task"]: r["exact_dup_rate"] + r["near_dup_rate"] for r in task_rows},
                                   "Duplicate rate (exact + near) per task", "records that copy an earlier one"), "dups"),
    ]
    counts = [r["count"] for r in task_rows]
    imbalance = f"largest/smallest task: {max(counts):,} / {min(counts):,} = {max(counts) / max(min(counts), 1):.1f}x"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{analysis.total:,} records, {len(task_rows)} tasks; {imbalance}. Token lengths: "
            f"{html.escape(analysis.length_method)}.</p><div class='grid'>{''.join(figs)}</div>"
            f"{html_table(analysis.rows)}</body></html>")


def write_analysis_html(analysis: Analysis, path: str | Path, title: str = "Data set analysis") -> Path:
    from mtsft.outputs import write_text_atomic

    write_text_atomic(path, analysis_html(analysis, title))
    return Path(path)


def analyze_files(inputs: list[str], html_out: str | Path | None = None, tokenizer_spec: str | None = None,
                  near: bool = True, show: bool = True) -> Analysis:
    """`mtsft data analyze`: the analysis of the inputs, and the HTML page when `html_out` is given."""
    from mtsft.data.inputs import read_inputs, rejected_lines
    from mtsft.outputs import check_file

    if html_out:
        check_file(html_out, inputs, flag="--out")
    tokenizer = None
    if tokenizer_spec:
        from mtsft.model import load_tokenizer
        tokenizer = load_tokenizer(tokenizer_spec)
    records, bad, _ = read_inputs(inputs)
    analysis = analyze(records, tokenizer, near=near, show=show)
    analysis.rejected = rejected_lines(bad)
    if html_out:
        write_analysis_html(analysis, html_out, f"Analysis of {', '.join(Path(p).name for p in inputs)}")
    return analysis
