"""Rich tables the commands print (kept apart so commands stay one call and one print)."""

from __future__ import annotations

from rich.table import Table


def import_table(result) -> Table:
    table = Table(title="import: every input record kept or rejected")
    for col in ("file", "format", "inputs", "kept", "rejected", "top rejection reason"):
        table.add_column(col, justify="right" if col in ("inputs", "kept", "rejected") else "left")
    for f in result.files:
        top = max(f.reasons.items(), key=lambda kv: kv[1], default=("", 0))
        table.add_row(f.path, f.format, str(f.inputs), str(f.kept), str(f.rejected),
                      f"{top[0]} ({top[1]})" if top[1] else "")
    table.add_row("[bold]total", "", f"[bold]{result.inputs}", f"[bold]{len(result.kept)}",
                  f"[bold]{len(result.rejected)}", "")
    return table


def run_table(summary: dict) -> Table:
    """`mtsft run`'s summary: per suite and task, the metric, base and tuned scores and the change."""
    table = compare_table(summary["rows"], summary["runs"])
    train = summary["train"]
    table.title = (f"held-out scores per task (kept {summary['kept']} of {summary['inputs']} records; "
                   f"final train loss {train.get('final_loss')}; change: tuned - base with its paired 95% "
                   "interval, * = excludes 0, u = unpaired: per-record scores missing on a side)")
    return table


def problems_table(rows: list[dict]) -> Table:
    """The five problems of `mtsft run`'s diagnosis: verdict and headline number against its threshold;
    crosstalk and format are decided on the rise over base, their absolute rates (base -> tuned) beside it."""
    table = Table(title="the five problems (crosstalk, format: rise over base on the same prompts; "
                        "report.html has every check)")
    for col in ("problem", "verdict", "check", "value", "threshold", "where", "rates there (base -> tuned)",
                "all outputs (base -> tuned)"):
        table.add_column(col, justify="left" if col in ("problem", "verdict", "check", "where") else "right")
    number = lambda x: f"{x:.3f}" if x is not None else ""  # noqa: E731
    pair = lambda b, t: f"{number(b) or '–'} -> {number(t)}" if t is not None else ""  # noqa: E731
    for r in rows:
        table.add_row(r["problem"], r["status"], r["check"] or "", number(r["value"]) or "n/a",
                      number(r["threshold"]), r["where"] or "", pair(r.get("base_rate"), r.get("tuned_rate")),
                      pair(r.get("base_overall"), r.get("overall")))
    return table


def _ci(summary: dict) -> str:
    ci = summary.get("ci95")
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""


def eval_table(suite: str, result: dict) -> Table:
    """One suite's per-task scores, the metric named, with 95% bootstrap intervals."""
    run = result.get("run", {})
    table = Table(title=f"suite {suite}: {run.get('records', '?')} records, tags {run.get('tag_mode', '?')}, "
                        f"code ran under {run.get('code_exec', '?')}")
    for col in ("task", "metric", "n", "score", "95% CI", "format ok", "top violation"):
        table.add_column(col, justify="left" if col in ("task", "metric", "top violation") else "right")
    for task, row in list(result["tasks"].items()) + [("[bold]overall", result["overall"])]:
        top = next(iter(row["violations"].items()), None)
        table.add_row(task, row.get("metric", ""), str(row["n"]), f"{row['score']:.3f}", _ci(row),
                      f"{row['format_ok']:.0%}", f"{top[0]} ({top[1]})" if top else "")
    return table


def compare_table(rows: list[dict], names: list[str]) -> Table:
    """Runs side by side per suite and task: the change (last - first) with its 95% interval, paired on the
    prompts both runs answered; marked * where the interval excludes 0, u where it is unpaired."""
    table = Table(title="side by side (change = last - first with its paired 95% interval; * = excludes 0; "
                        "u = unpaired: per-record scores missing on a side or different records)")
    for col in ["suite", "task", "metric", *names, "change", "95% interval"]:
        table.add_column(col, justify="left" if col in ("suite", "task", "metric") else "right")
    for r in rows:
        cells = [f"{v:.3f}" if v is not None else "" for v in r["scores"]]
        change = f"{r['delta']:+.3f}{'*' if r['decided'] else ''}" if r["delta"] is not None else ""
        ci = r.get("delta_ci")
        interval = (f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "n/a") + ("" if r.get("paired") is not False else " u")
        table.add_row(r["suite"], f"[bold]{r['task']}" if r["task"] in ("overall", "macro") else r["task"],
                      r["metric"], *cells, change, interval if r["delta"] is not None else "")
    return table
