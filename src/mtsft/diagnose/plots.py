"""The report's figures as base64 PNG (one self-contained HTML file). Chinese task names and examples need
a CJK font: the first installed one of `CJK_FONTS` is used (Debian: `apt-get install fonts-noto-cjk`);
without one the figures still render, with boxes for CJK glyphs."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN")
COLORS = {"base": "#bbbbbb", "tuned": "#1f78b4", "threshold": "#e31a1c", "train": "#1f78b4", "eval": "#d95f02"}
_FONT: str | None | bool = False


def cjk_font() -> str | None:
    """The CJK font the figures use (None: none installed); set once per process."""
    global _FONT
    if _FONT is False:
        from matplotlib import font_manager

        installed = {f.name for f in font_manager.fontManager.ttflist}
        if not any(name in installed for name in CJK_FONTS):
            # matplotlib's font cache predates a font installed later (apt-get install fonts-noto-cjk): add them
            for path in font_manager.findSystemFonts():
                if any(k in path.lower() for k in ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "simhei")):
                    try:
                        font_manager.fontManager.addfont(path)
                    except (OSError, RuntimeError, ValueError):
                        continue
            installed = {f.name for f in font_manager.fontManager.ttflist}
        _FONT = next((name for name in CJK_FONTS if name in installed), None)
        if _FONT:
            plt.rcParams["font.sans-serif"] = [_FONT, *plt.rcParams["font.sans-serif"]]
            plt.rcParams["font.family"] = "sans-serif"
        plt.rcParams["axes.unicode_minus"] = False
    return _FONT


def to_base64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _err(score, ci):
    return [[max(0.0, score - ci[0])], [max(0.0, ci[1] - score)]] if ci else None


def _rate_err(table: list[dict]) -> np.ndarray:
    """Error bar lengths from each row's interval, never negative (an interval computed in floating point
    can miss its own point by a rounding error, e.g. Wilson's lower bound at a rate of 0)."""
    lo = [r["rate"] - r["ci"][0] if r["ci"] else 0.0 for r in table]
    hi = [r["ci"][1] - r["rate"] if r["ci"] else 0.0 for r in table]
    return np.maximum(0.0, np.array([lo, hi]))


def scores_bars(table: list[dict], threshold_spread: float | None = None) -> str:
    """Per task: base and tuned score with 95% intervals."""
    cjk_font()
    tasks = [r["task"] for r in table]
    y = np.arange(len(tasks))
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(tasks) + 1.4))
    for off, side in ((0.2, "base"), (-0.2, "tuned")):
        for i, r in enumerate(table):
            if side in r:
                ax.barh(y[i] + off, r[side], height=0.38, color=COLORS[side], xerr=_err(r[side], r.get(f"{side}_ci")),
                        error_kw={"ecolor": "#333", "capsize": 2, "lw": 0.8}, label=side if i == 0 or side not in table[0] else None)
    best = max((r["tuned"] for r in table), default=0.0)
    if threshold_spread is not None and best - threshold_spread > 0:  # a line left of 0 only stretches the axis
        ax.axvline(best - threshold_spread, color=COLORS["threshold"], ls="--", lw=1,
                   label=f"best - max spread ({threshold_spread:g})")
    ax.set_yticks(y, tasks)
    ax.set_xlim(0, max(1.0, ax.get_xlim()[1]))  # scores live in [0, 1]: all-zero bars still read as zero
    ax.set_xlabel("score (each task's verifier), 95% bootstrap interval")
    ax.set_title("per-task score: base vs tuned")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=8, loc="lower right")
    return to_base64(fig)


def heatmap(labels: list[str], matrix: list[list[int]], title: str) -> str:
    cjk_font()
    m = np.asarray(matrix, dtype=float)
    rows = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(0.55 * len(labels) + 3, 0.5 * len(labels) + 2))
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j]:
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if rows[i, j] > 0.6 else ("#b00" if i != j else "black"))
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("task the output performs")
    ax.set_ylabel("task asked")
    ax.set_title(title)
    return to_base64(fig)


def rate_bars(table: list[dict], threshold: float | None, title: str, xlabel: str, stacked_kinds: bool = False) -> str:
    """Per-task rates with their intervals; `threshold` draws the verdict's line (None: the verdict is not on
    these rates)."""
    cjk_font()
    tasks = [r["task"] for r in table]
    fig, ax = plt.subplots(figsize=(7.5, 0.36 * len(tasks) + 1.4))
    y = np.arange(len(tasks))
    if stacked_kinds:
        kinds = sorted({k for r in table for k in r.get("kinds", {})})
        cmap = plt.get_cmap("tab10")
        left = np.zeros(len(tasks))
        for c, kind in enumerate(kinds):
            vals = np.array([r.get("kinds", {}).get(kind, 0) / max(r["n"], 1) for r in table])
            ax.barh(y, vals, left=left, color=cmap(c % 10), label=kind)
            left += vals
        ax.errorbar([r["rate"] for r in table], y, xerr=_rate_err(table),
                    fmt="|", color="#333", lw=0.8, capsize=2, label="records with a violation, 95% CI")
    else:
        ax.barh(y, [r["rate"] for r in table], color=COLORS["tuned"],
                xerr=_rate_err(table),
                error_kw={"ecolor": "#333", "capsize": 2, "lw": 0.8})
    if threshold is not None:
        ax.axvline(threshold, color=COLORS["threshold"], ls="--", lw=1, label=f"threshold {threshold:g}")
    ax.set_yticks(y, tasks)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return to_base64(fig)


def loss_curves(curves: dict[str, dict[str, list]], flagged: list[str]) -> str:
    cjk_font()
    tasks = sorted(curves)
    cols = 4
    rows = max(1, -(-len(tasks) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.1 * rows + 0.6), squeeze=False)
    for ax, t in zip(axes.flat, tasks):
        for split in ("train", "eval"):
            pts = curves[t].get(split, [])
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=COLORS[split], lw=1.2, label=split,
                        marker="o" if split == "eval" else None, ms=3)
        ax.set_title(t + ("  (flagged)" if t in flagged else ""), fontsize=9, color="#b00" if t in flagged else "black")
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("per-task loss: train vs eval")
    fig.tight_layout()
    return to_base64(fig)


def share_scatter(points: list[tuple[str, float, float]], what: str) -> str:
    cjk_font()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.scatter([p[1] for p in points], [p[2] for p in points], color=COLORS["tuned"])
    for name, x, y in points:
        ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("share of the training mixture")
    ax.set_ylabel(what)
    ax.set_title(f"{what} against mixture share")
    return to_base64(fig)


def forgetting_bars(extra: dict) -> str:
    cjk_font()
    items = []
    if "perplexity" in extra:
        p = extra["perplexity"]
        items.append(("general perplexity", p["base"], p["tuned"]))
    if "general" in extra:   # a change in score points: a ratio to a base near zero says nothing
        g = extra["general"]
        items.append((f"general prompts score\n({g['which']})", g["base"], g["tuned"]))
    fig, axes = plt.subplots(1, len(items), figsize=(3.6 * len(items), 3), squeeze=False)
    for ax, (name, b, t) in zip(axes.flat, items):
        ax.bar(["base", "tuned"], [b, t], color=[COLORS["base"], COLORS["tuned"]])
        ax.set_title(name, fontsize=9)
        change = f"{t - b:+.3f}" if name.startswith("general prompts") else f"{(t / b - 1) if b else 0.0:+.1%}"
        ax.text(1, t, change, ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return to_base64(fig)
