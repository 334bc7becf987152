"""The diagnosis report: report.md (text) and report.html (the same, plots embedded as base64 PNG),
plus diagnosis.json (every number) in one folder.

Sections: summary (the verdict per problem and its lever), then one section per problem with its checks,
per-task table, figures and worst examples, then the config changes `--apply` writes."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from mtsft.diagnose import plots
from mtsft.diagnose.diagnose import Diagnosis
from mtsft.diagnose.problems import STATUS_RANK, Finding
from mtsft.runfiles import write_diagnosis

CSS = """body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:1150px;
margin:2em auto;color:#222;line-height:1.45;padding:0 1em}table{border-collapse:collapse;font-size:13px;margin:.8em 0}
td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}img{max-width:100%;margin:.5em 0}
.fires{color:#cf222e;font-weight:700}.ok{color:#1a7f37}.undecided{color:#9a6700}.na{color:#777}
pre{white-space:pre-wrap;background:#f6f8fa;padding:6px;margin:2px 0;font-size:12px;max-height:12em;overflow:auto}
code{background:#f3f3f3;padding:1px 4px}.ev td{max-width:420px}h2{border-bottom:2px solid #eee;padding-bottom:.2em}"""

EXPLAIN = {
    "uneven": "Per-task score of the tuned model (base beside it), each with a 95% bootstrap interval; the change "
              "from base has a paired interval (both models answered the same prompts: prompts are resampled, "
              "each with its two answers; 'unpaired' marks a task whose records differ). Fires when the interval "
              "of best minus worst task lies above the threshold, or a task's interval of base minus tuned does.",
    "crosstalk": "Which task each output performs, judged with its prompt in view, against the task asked; an "
                 "echo of the prompt or a degenerate loop performs no task ('none') and is not crosstalk. The judge "
                 "errs the same way on both models' weak outputs, so a task's verdict is on the rise over base: "
                 "its tuned rate minus its base rate on the same prompts, with a paired 95% interval. Fires when "
                 "that interval lies above the threshold. The absolute rates stand beside it.",
    "format": "Outputs breaking their task's format (the registry's format checks), per task and kind. Decided "
              "like crosstalk on the rise over base (tuned minus base violation rate on the same prompts, paired "
              "95% interval) against the threshold; the absolute rates stand beside it.",
    "forgetting": "General ability, tuned vs base: perplexity on general held-out text (tuned / base - 1) and "
                  "the score drop on general prompts (base minus tuned on the same prompts, in score points), "
                  "each with a paired bootstrap interval. Fires when an interval lies above its threshold.",
    "overfit": "Per-task eval minus train loss at the end of training (task_loss.csv) and the rank correlation "
               "of each task's mixture share with its gain, decided on the point values; and each task's score on "
               "content it trained on minus on held-out content (eval_seen), decided on its 95% interval.",
}


def _fmt(v, pct=False) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        text = f"{v:.1%}" if pct else f"{v:.3f}"
        return text.lstrip("-") if float(text.rstrip("%")) == 0 else text  # no "-0.000" from a tiny negative
    return str(v)


def _ci(ci, pct=False) -> str:
    return f"[{_fmt(ci[0], pct)}, {_fmt(ci[1], pct)}]" if ci else ""


PCT_CHECKS = {"crosstalk rate", "violation rate", "crosstalk rise over base", "violation rise over base",
              "perplexity increase"}


def absolute_rates(f: Finding, task: str | None) -> str:
    """Crosstalk's or format's absolute rates for `task`, base -> tuned, to stand beside its rise."""
    row = next((r for r in f.table if r.get("task") == task), None) if f.problem in ("crosstalk", "format") else None
    if row is None:
        return ""
    tuned = _fmt(row["rate"], True)
    return f"tuned {tuned}" if row.get("base_rate") is None else f"base {_fmt(row['base_rate'], True)} → tuned {tuned}"


def check_line(c) -> str:
    pct = c.name in PCT_CHECKS
    return (f"{c.name}: {_fmt(c.value, pct)} {_ci(c.ci, pct)} vs threshold {_fmt(c.threshold, pct)} → "
            f"{c.status}" + (f" ({c.detail})" if c.detail else ""))


def verdict_rows(d: Diagnosis) -> list[list[str]]:
    levers = {lv.problem: lv for lv in d.levers}
    rows = [["problem", "verdict", "number", "95% interval", "threshold", "where", "lever"]]
    for f in d.findings:
        main = max(f.checks, key=lambda c: STATUS_RANK[c.status])
        pct = main.name in PCT_CHECKS
        rates = absolute_rates(f, main.task)
        rows.append([f.title, f.status, f"{main.name} {_fmt(main.value, pct)}" + (f" ({rates})" if rates else ""),
                     _ci(main.ci, pct),
                     _fmt(main.threshold, pct), main.task or "", levers[f.problem].name if f.problem in levers else ""])
    return rows


def _table(f: Finding) -> list[list[str]]:
    if not f.table:
        return []
    if f.problem == "uneven":
        head = ["task", "n", "base", "base 95%", "tuned", "tuned 95%", "change", "change 95%", "interval"]
        return [head] + [[r["task"], str(r["n"]), _fmt(r.get("base")), _ci(r.get("base_ci")), _fmt(r["tuned"]),
                          _ci(r.get("tuned_ci")), _fmt(r.get("delta")), _ci(r.get("delta_ci")), _pairing(r)]
                         for r in f.table]
    if f.problem in ("crosstalk", "format"):
        hits = "crossed" if f.problem == "crosstalk" else "violating"
        head = ["task", "n", f"base {hits}", "base rate", f"tuned {hits}", "tuned rate", "tuned 95%",
                "rise over base", "rise 95%", "interval", "verdict"]
        rows = [[r["task"], str(r["n"]), _fmt(r.get(f"base_{hits}")), _fmt(r.get("base_rate"), True), str(r[hits]),
                 _fmt(r["rate"], True), _ci(r["ci"], True), _fmt(r.get("rise"), True), _ci(r.get("rise_ci"), True),
                 _pairing(r), r.get("status", "too few")] for r in f.table]
        if f.problem == "format":
            head.append("kinds")
            for row, r in zip(rows, f.table):
                row.append(", ".join(f"{k} {v}" for k, v in r["kinds"].items()))
        return [head] + rows
    if f.problem == "forgetting":
        return [["general task", "n", "base", "tuned", "drop (base - tuned)", "drop 95%", "interval"]] + [
            [r["task"], str(r["n"]), _fmt(r["base"]), _fmt(r["tuned"]), _fmt(r.get("drop")), _ci(r.get("drop_ci")),
             "paired" if r.get("drop_ci") else ""] for r in f.table]
    what = f.extra.get("what", "score")
    return [["task", "mixture share", "train loss", "eval loss", "gap", "eval rise since its best", what]] + [
        [r["task"], _fmt(r.get("share"), True), _fmt(r.get("train")), _fmt(r.get("eval")), _fmt(r.get("gap")),
         _fmt(r.get("eval_rise")), _fmt(r.get(what))] for r in f.table]


TURNS_EXPLAIN = ("Task switches inside conversations (the multi-turn suite): each assistant turn judged against its "
                 "own request, per turn position and per task of the turn before. 'leaked' counts outputs that "
                 "perform the previous turn's task (the last turn's task leaking into this one), 'crossed' any "
                 "other task; the leak share is decided on its rise over base on the same turns.")


def _turns_table(f: Finding) -> list[list[str]]:
    """Crosstalk per turn position and per previous task (`problems.turn_leaks`), when the eval had turns."""
    rows = f.extra.get("turns") or []
    if not rows:
        return []
    head = ["by", "group", "n", "tuned crossed", "base leaked", "base rate", "tuned leaked", "tuned rate", "tuned 95%",
            "rise over base", "rise 95%", "verdict"]
    return [head] + [[r["by"], r["group"], str(r["n"]), str(r["crossed"]), _fmt(r.get("base_leaked")),
                      _fmt(r.get("base_rate"), True), str(r["leaked"]), _fmt(r["rate"], True), _ci(r["ci"], True),
                      _fmt(r.get("rise"), True), _ci(r.get("rise_ci"), True), r.get("status", "too few")] for r in rows]


def _pairing(row: dict) -> str:
    """How a row's base-vs-tuned interval was computed."""
    return {True: "paired", False: "unpaired"}.get(row.get("paired"), "")


def _figures(d: Diagnosis, f: Finding) -> list[tuple[str, str]]:
    cfg = d.config
    out = []
    if f.problem == "uneven" and f.table:
        out.append(("per-task base vs tuned scores with 95% intervals", plots.scores_bars(f.table, cfg.uneven.max_spread)))
    elif f.problem == "crosstalk" and f.extra.get("labels"):
        out.append(("crosstalk heatmap: task asked x task performed",
                    plots.heatmap(f.extra["labels"], f.extra["matrix"], f"asked vs performed ({f.extra['method']})")))
        out += _rate_figures(f, cfg.crosstalk.max_rate, "crosstalk", "share of outputs performing another task")
    elif f.problem == "format" and f.table:
        out += _rate_figures(f, cfg.format.max_rate, "format violations", "share of outputs with a violation")
    elif f.problem == "forgetting" and ("perplexity" in f.extra or "general" in f.extra):
        out.append(("forgetting: base vs tuned on general text and prompts", plots.forgetting_bars(f.extra)))
    elif f.problem == "overfit":
        if f.extra.get("curves"):
            out.append(("per-task loss curves", plots.loss_curves(f.extra["curves"], f.extra.get("flagged", []))))
        if len(f.extra.get("points", [])) >= 2:
            out.append(("score against mixture share", plots.share_scatter(f.extra["points"], f.extra["what"])))
    return out


def _rate_figures(f: Finding, threshold: float, what: str, xlabel: str) -> list[tuple[str, str]]:
    """The rise over base per task against the threshold (what is decided), then the tuned model's absolute
    rates (format: by kind); without a base run the absolute rates are decided and carry the threshold."""
    rises = [{"task": r["task"], "n": r["n"], "rate": r["rise"], "ci": r.get("rise_ci")} for r in f.table
             if r.get("rise") is not None]
    out = []
    if rises:
        out.append((f"{what}: rise over base per task", plots.rate_bars(
            rises, threshold, f"{what}: tuned minus base per task", f"{xlabel}, tuned minus base (paired 95% CI)")))
    title = f"{what}: tuned model's rate per task" + (" and kind" if f.problem == "format" else "")
    out.append((title, plots.rate_bars(f.table, None if rises else threshold, title, f"{xlabel}, 95% CI",
                                       stacked_kinds=f.problem == "format")))
    return out


EVIDENCE_KEYS = ("task", "lang", "prompt", "prediction", "reference", "score", "performed", "violations",
                 "base_prediction", "base_score", "gap", "why")


def _md_table(rows: list[list[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(esc(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(lines + ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows[1:]])


def _html_table(rows: list[list[str]], status_col: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = []
    for r in rows[1:]:
        cells = []
        for i, c in enumerate(r):
            cls = f' class="{c.replace("n/a", "na")}"' if i == status_col else ""
            cells.append(f"<td{cls}>{html.escape(str(c))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _input_paths(d: Diagnosis, here: Path | None) -> list[tuple[str, str]]:
    """(label, path) of each diagnosed input, relative to the report's folder `here`: a shared report names
    no machine's folders."""
    def shown(path) -> str:
        if not path:
            return "-"
        try:
            return str(path) if here is None else os.path.relpath(Path(path).resolve(), Path(here).resolve())
        except ValueError:  # another drive: no relative path exists
            return Path(path).name
    return [("tuned", shown(d.inputs.tuned.path if d.inputs.tuned else None)),
            ("base", shown(d.inputs.base.path if d.inputs.base else None)), ("training", shown(d.inputs.train_dir))]


def render_md(d: Diagnosis, figures: dict[str, list], here: Path | None = None) -> str:
    out = ["# Diagnosis", "", ", ".join(f"{label}: `{path}`" for label, path in _input_paths(d, here)), "",
           "## Summary", "", _md_table(verdict_rows(d)), ""]
    for f in d.findings:
        out += [f"## {f.title}: {f.status}", "", EXPLAIN[f.problem], ""]
        out += [f"- {check_line(c)}" for c in f.checks] + ([f"- {f.note}"] if f.note else []) + [""]
        if _table(f):
            out += [_md_table(_table(f)), ""]
        if _turns_table(f):
            out += ["### Task switches: crosstalk per turn", "", TURNS_EXPLAIN, "", _md_table(_turns_table(f)), ""]
        out += [f"*Figure (in report.html): {title}.*" for title, _ in figures[f.problem]]
        if f.evidence:
            out += ["", "### Worst examples", ""]
            for i, e in enumerate(f.evidence, 1):
                out.append(f"{i}. " + "; ".join(f"**{k}**: {str(e[k]).replace(chr(10), ' ')[:240]}"
                                                for k in EVIDENCE_KEYS if e.get(k) not in (None, "", [])))
        out.append("")
    out += ["## Levers", ""]
    if not d.levers:
        out.append("No problem fired: nothing to change.")
    for lv in d.levers:
        out.append(f"- **{lv.problem}: {lv.name}**. {lv.why}")
        out += [f"  - `{c.path}`: `{json.dumps(c.old, ensure_ascii=False)}` → `{json.dumps(c.new, ensure_ascii=False)}`"
                for c in lv.changes]
        if lv.advice:
            out.append(f"  - by hand: {lv.advice}")
    return "\n".join(out) + "\n"


def render_html(d: Diagnosis, figures: dict[str, list], here: Path | None = None) -> str:
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>mtsft diagnosis</title>"
             f"<style>{CSS}</style></head><body>", "<h1>Diagnosis</h1>",
             "<p>" + ", ".join(f"{label} <code>{html.escape(path)}</code>" for label, path in _input_paths(d, here))
             + "</p>",
             "<h2 id='summary'>Summary</h2>", _html_table(verdict_rows(d), status_col=1),
             "<p>" + " · ".join(f"<a href='#{f.problem}'>{html.escape(f.title)}</a>" for f in d.findings) +
             " · <a href='#levers'>Levers</a></p>"]
    for f in d.findings:
        parts.append(f"<section id='{f.problem}'><h2>{html.escape(f.title)}: "
                     f"<span class='{f.status.replace('n/a', 'na')}'>{f.status}</span></h2>")
        parts.append(f"<p>{html.escape(EXPLAIN[f.problem])}</p><ul>" +
                     "".join(f"<li class='{c.status.replace('n/a', 'na')}'>{html.escape(check_line(c))}</li>"
                             for c in f.checks) + (f"<li>{html.escape(f.note)}</li>" if f.note else "") + "</ul>")
        if _table(f):
            parts.append(_html_table(_table(f)))
        if _turns_table(f):
            parts.append(f"<h3 id='{f.problem}-turns'>Task switches: crosstalk per turn</h3>"
                         f"<p>{html.escape(TURNS_EXPLAIN)}</p>" + _html_table(_turns_table(f), status_col=11))
        for title, b64 in figures[f.problem]:
            parts.append(f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{b64}'>"
                         f"<figcaption>{html.escape(title)}</figcaption></figure>")
        if f.evidence:
            parts.append(f"<h3 id='{f.problem}-examples'>Worst examples</h3><table class='ev'>")
            keys = [k for k in EVIDENCE_KEYS if any(e.get(k) not in (None, "", []) for e in f.evidence)]
            parts.append("<tr>" + "".join(f"<th>{k}</th>" for k in keys) + "</tr>")
            for i, e in enumerate(f.evidence, 1):
                cells = []
                for k in keys:
                    v = e.get(k)
                    v = "" if v is None else (", ".join(map(str, v)) if isinstance(v, list) else v)
                    v = f"{v:.3f}" if isinstance(v, float) else str(v)
                    cells.append(f"<td><pre>{html.escape(v)}</pre></td>" if k in ("prompt", "prediction", "reference",
                                                                                  "base_prediction") else
                                 f"<td>{html.escape(v)}</td>")
                parts.append(f"<tr id='{f.problem}-ex{i}'>" + "".join(cells) + "</tr>")
            parts.append("</table>")
        parts.append("</section>")
    parts.append("<section id='levers'><h2>Levers</h2>")
    if not d.levers:
        parts.append("<p class='ok'>No problem fired: nothing to change.</p>")
    for lv in d.levers:
        parts.append(f"<h3>{html.escape(lv.problem)}: {html.escape(lv.name)}</h3><p>{html.escape(lv.why)}</p>")
        if lv.changes:
            parts.append(_html_table([["key", "now", "new"]] + [[c.path, json.dumps(c.old, ensure_ascii=False),
                                                                json.dumps(c.new, ensure_ascii=False)] for c in lv.changes]))
        if lv.advice:
            parts.append(f"<p><b>By hand:</b> {html.escape(lv.advice)}</p>")
    parts.append("<p><code>mtsft diagnose RUN --apply --out NEW.yaml</code> writes these changes; "
                 "<code>mtsft run -c NEW.yaml</code> runs them.</p></section></body></html>")
    return "\n".join(parts)


def write_report(d: Diagnosis, out_dir: str | Path) -> dict[str, Path]:
    """report.md, report.html, diagnosis.json (and perplexity.json when it was computed) in `out_dir`."""
    from mtsft.outputs import claim_folder, write_json_atomic, write_text_atomic

    out = claim_folder(out_dir, flag="--report")  # an mtsft folder: never one holding the user's files
    figures = {f.problem: _figures(d, f) for f in d.findings}
    paths = {"md": out / "report.md", "html": out / "report.html"}
    write_text_atomic(paths["md"], render_md(d, figures, out))
    write_text_atomic(paths["html"], render_html(d, figures, out))
    paths["json"] = write_diagnosis(out, d.to_dict())
    ppl = d.inputs.perplexity
    if ppl and ppl.get("base") and not (out / "perplexity.json").exists():
        write_json_atomic(out / "perplexity.json", ppl, indent=None)
        paths["perplexity"] = out / "perplexity.json"
    return paths
