"""Matplotlib figures for the analyze page and the curation report, returned as base64 PNG strings so one
HTML file carries everything (it can be mailed or opened offline)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = {"zh": "#d95f02", "en": "#1b9e77", "mixed": "#7570b3", "before": "#bbbbbb", "after": "#1f78b4",
          "target": "#e31a1c"}


def to_base64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def img_tag(b64: str, alt: str) -> str:
    return f'<img alt="{alt}" src="data:image/png;base64,{b64}">'


def counts_by_lang(counts: dict[str, dict[str, int]], title: str) -> str:
    """Horizontal stacked bars: records per task, split by language."""
    tasks = sorted(counts, key=lambda t: sum(counts[t].values()))
    langs = sorted({lang for c in counts.values() for lang in c})
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(tasks) + 1.2))
    left = np.zeros(len(tasks))
    for lang in langs:
        vals = np.array([counts[t].get(lang, 0) for t in tasks])
        ax.barh(tasks, vals, left=left, label=lang, color=COLORS.get(lang))
        left += vals
    for y, total in enumerate(left):
        ax.text(total, y, f" {int(total):,}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel("records")
    ax.legend(loc="lower right", fontsize=8)
    return to_base64(fig)


def before_after(before: dict[str, int], after: dict[str, int], targets: dict[str, int] | None, title: str) -> str:
    tasks = sorted(set(before) | set(after))
    y = np.arange(len(tasks))
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(tasks) + 1.2))
    ax.barh(y + 0.2, [before.get(t, 0) for t in tasks], height=0.4, label="before", color=COLORS["before"])
    ax.barh(y - 0.2, [after.get(t, 0) for t in tasks], height=0.4, label="after", color=COLORS["after"])
    if targets:
        ax.scatter([targets.get(t, 0) for t in tasks], y - 0.2, marker="|", s=200, color=COLORS["target"],
                   label="target", zorder=3)
    ax.set_yticks(y, tasks)
    ax.set_xlabel("records")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return to_base64(fig)


def length_boxes(lengths: dict[str, list[int]], title: str, unit: str = "tokens") -> str:
    tasks = sorted(lengths, key=lambda t: np.median(lengths[t]) if lengths[t] else 0)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(tasks) + 1.2))
    ax.boxplot([lengths[t] or [0] for t in tasks], orientation="horizontal", tick_labels=tasks, showfliers=False)
    ax.set_xscale("log")
    ax.set_xlabel(f"{unit} per record (log scale, whiskers 1.5 IQR)")
    ax.set_title(title)
    return to_base64(fig)


def shares(values: dict[str, float], title: str, xlabel: str) -> str:
    tasks = sorted(values, key=values.get)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(tasks) + 1.2))
    ax.barh(tasks, [values[t] for t in tasks], color=COLORS["after"])
    for y, t in enumerate(tasks):
        ax.text(values[t], y, f" {values[t]:.1%}", va="center", fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return to_base64(fig)


def difficulty_grid(before: dict[str, list[float]], after: dict[str, list[float]], title: str) -> str:
    tasks = sorted(set(before) | set(after))
    cols = 4
    rows = max(1, -(-len(tasks) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.0 * rows + 0.6), squeeze=False)
    bins = np.linspace(0, 1, 11)
    for ax, t in zip(axes.flat, tasks):
        ax.hist(before.get(t, []), bins=bins, color=COLORS["before"], label="before")
        ax.hist(after.get(t, []), bins=bins, color=COLORS["after"], histtype="step", linewidth=2, label="after")
        ax.set_title(t, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return to_base64(fig)


def funnel(rounds: list[dict], title: str) -> str:
    names = [r["name"] for r in rounds]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.bar(names, [r["kept"] for r in rounds], color=COLORS["after"], label="kept")
    ax.bar(names, [r["rejected"] for r in rounds], bottom=[r["kept"] for r in rounds], color="#fb9a99",
           label="rejected")
    for x, r in enumerate(rounds):
        ax.text(x, r["kept"] + r["rejected"], f"-{r['rejected']:,}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("records")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return to_base64(fig)
