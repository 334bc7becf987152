"""The curation report: the story round by round, as a person doing it by hand would tell it.

One list of sections (heading, sentences, a table, a figure) rendered twice: report.md (text, for a
terminal or a diff) and report.html (the same with the plots embedded as base64 PNG images).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from mtsft.data import plots
from mtsft.data.page import CSS
from mtsft.records import prompt

ROUND_STORY = {
    "read": "Lines that could not be read as records.",
    "classify": "Every record needs a task. Trusted labels are kept; the rest are labelled by the registry's "
                "signals plus the char n-gram classifier, and low-confidence ones are set aside.",
    "quality": "Records no one should train on: empty, truncated, too long, repetitive, in the wrong language, "
               "refusals, broken task format, control characters. The rest get a quality score.",
    "dedup": "Exact (normalised) and near (MinHash LSH over character shingles) duplicates of the whole "
             "conversation, across tasks; the best-scored record of each cluster stays. Then records leaking "
             "into the evaluation files.",
    "conflicts": "Records that teach opposite things: the same instruction with answers that disagree, the same "
                 "instruction under two task labels, an answer shaped like another task's, a label the "
                 "classifier is sure is wrong.",
    "balance": "Each task brought to its target under the mixing rule; down-sampling keeps the best-scored "
               "records in each difficulty band, up-sampling augments before it repeats.",
}


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)   # first row is the header
    figure: str | None = None


def _ratio(counts: dict[str, int]) -> str:
    vals = [v for v in counts.values() if v > 0]
    if not vals:
        return "no records"
    big = max(counts, key=counts.get)
    small = min((t for t in counts if counts[t] > 0), key=counts.get)
    return f"{big} {counts[big]:,} vs {small} {counts[small]:,} ({counts[big] / counts[small]:.1f}x)"


def _examples(result, round_name: str, per_reason: int = 1) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for r in result.rejected:
        rej = r["meta"].get("rejected", {})
        if rej.get("round") != round_name or seen.get(rej["reason"], 0) >= per_reason:
            continue
        seen[rej["reason"]] = seen.get(rej["reason"], 0) + 1
        try:
            text = prompt(r).replace("\n", " ")
        except Exception:  # unreadable records have no prompt to show
            text = str(r.get("raw", ""))
        out.append(f"e.g. {rej['reason']}: `{r['id']}` ({r.get('task') or '?'}): \"{text[:90]}{'…' if len(text) > 90 else ''}\"")
    return out


def _round_section(result, rnd: dict) -> Section:
    s = Section(f"Round: {rnd['name']}", [ROUND_STORY.get(rnd["name"], "")])
    s.text.append(f"{rnd['entered']:,} records came in, {rnd['kept']:,} went on, {rnd['rejected']:,} were set aside"
                  + (f", {rnd['added']:,} copies were added" if rnd.get("added") else "") + f" ({rnd['seconds']}s).")
    notes = rnd.get("notes") or {}
    if rnd["name"] == "classify":
        s.text.append(f"Trusted labels: {notes.get('trusted_labels', 0):,}; labelled by the classifier: "
                      f"{notes.get('classified', 0):,}; uncertain: {notes.get('uncertain', 0):,}.")
    if rnd["name"] == "quality" and notes.get("verifier_skipped"):
        s.text.append("The task verifier joins the quality score while it is cheap (`quality.verifier_budget_ms`); "
                      f"too slow per record, left out of the score for: {', '.join(notes['verifier_skipped'])}.")
    if rnd["name"] == "dedup":
        s.text.append(f"Exact duplicates: {notes.get('exact_duplicates', 0):,}; near duplicates: "
                      f"{notes.get('near_duplicates', 0):,}; leaked into {notes.get('eval_records', 0):,} eval records: "
                      f"{notes.get('contaminated', 0):,}.")
    if rnd["name"] == "conflicts":
        s.text.append(f"Found: {notes.get('found') or 'none'}; relabelled: {notes.get('relabelled', 0):,}; "
                      f"sent to review: {notes.get('to_review', 0):,}.")
    if rnd["name"] == "balance":
        up = notes.get("upsampled_by_kind") or {}
        s.text.append(f"Strategy `{notes.get('strategy')}`. Entering: {_ratio(notes.get('before', {}))}. "
                      f"Up-sampled copies by kind: {up or 'none'}.")
        capped = notes.get("capped") or {}
        if capped:
            s.text.append("Too few records to reach the mixture's share (capped at `balance.max_upsample` times "
                          "their records; add data for them): "
                          + ", ".join(f"{t} {v['cap']:,} of {v['mixture']:,}" for t, v in capped.items()) + ".")
    if rnd["reasons"]:
        s.table = [["reason", "records"]] + [[k, f"{v:,}"] for k, v in sorted(rnd["reasons"].items(), key=lambda kv: -kv[1])]
    s.text += _examples(result, rnd["name"])
    return s


def build_sections(result) -> list[Section]:
    up = result.upsampled
    status = "passed" if result.ok else "FAILED"
    intro = Section("Summary", [
        f"{result.inputs:,} input records: {len(result.kept) - up:,} kept, {len(result.rejected):,} rejected "
        f"({len(result.review):,} of them written to review.jsonl for a person), plus {up:,} up-sampled copies: "
        f"{len(result.kept):,} records in kept.jsonl. Validation {status}.",
        f"Imbalance before: {_ratio(result.before)}. After: {_ratio(result.after)}.",
        f"Token lengths: {result.length_method}. Round order: classify, quality, conflicts, dedup, balance, "
        f"validate (balance last, so it keeps the best-scored records and its copies are not deduplicated away)."])
    intro.figure = plots.funnel(result.rounds, "Records kept and set aside, round by round")
    sections = [intro]
    sections += [_round_section(result, rnd) for rnd in result.rounds]
    dist = Section("Distribution before and after", [
        "Counts per task after classification (trusted labels plus the classifier's; `uncertain` = no task "
        "decided), the balance round's targets, and what was kept (copies included)."])
    dist.table = [["task", "before", "target", "after"]] + [
        [t, f"{result.before.get(t, 0):,}", f"{result.targets.get(t, 0):,}", f"{result.after.get(t, 0):,}"]
        for t in sorted(set(result.before) | set(result.after))]
    dist.figure = plots.before_after(result.before, result.after, result.targets, "Records per task")
    sections.append(dist)
    if result.difficulty.get("before"):
        diff = Section("Difficulty per task", ["Difficulty estimate (0 easy .. 1 hard) entering the balance round "
                                               "and kept after it: balancing keeps each task's spread."])
        diff.figure = plots.difficulty_grid(result.difficulty["before"], result.difficulty["after"], "Difficulty")
        sections.append(diff)
    checks = Section("Validation", [f"All checks {status.lower()}."])
    checks.table = [["check", "result", "detail", "what to change"]] + [
        [c.name, "ok" if c.ok else "FAIL", c.detail, "" if c.ok else c.fix] for c in result.checks]
    sections.append(checks)
    return sections


def render_md(sections: list[Section]) -> str:
    out = ["# Curation report", "", "(Plots are in report.html.)", ""]
    for s in sections:
        out += [f"## {s.title}", ""] + [t for t in s.text if t] + [""]
        if s.table:
            out.append("| " + " | ".join(s.table[0]) + " |")
            out.append("|" + "---|" * len(s.table[0]))
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in s.table[1:]]
            out.append("")
    return "\n".join(out)


def _md_inline(text: str) -> str:
    """Escape, then turn `code` spans into <code> (the only markdown the sentences use)."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _cell_class(cell: str) -> str:
    if cell in ("FAIL", "ok"):
        return "fail" if cell == "FAIL" else "ok"
    return "num" if cell.replace(",", "").replace(".", "").isdigit() else "text"


def render_html(sections: list[Section]) -> str:
    body = ["<h1>Curation report</h1>"]
    for s in sections:
        body.append(f"<h2>{html.escape(s.title)}</h2>")
        body += [f"<p>{_md_inline(t)}</p>" for t in s.text if t]
        if s.figure:
            body.append(plots.img_tag(s.figure, s.title))
        if s.table:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in s.table[0])
            rows = "".join("<tr>" + "".join(f"<td class='{_cell_class(c)}'>{html.escape(c)}</td>" for c in row)
                           + "</tr>" for row in s.table[1:])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    css = CSS + "td.text,th{text-align:left}td.num{text-align:right}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Curation report</title><style>{css}</style>"
            f"</head><body>{''.join(body)}</body></html>")


def write_report(result, out_dir: str | Path) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sections = build_sections(result)
    md, page = out / "report.md", out / "report.html"
    md.write_text(render_md(sections), encoding="utf-8")
    page.write_text(render_html(sections), encoding="utf-8")
    return md, page
