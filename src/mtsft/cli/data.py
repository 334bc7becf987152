"""`mtsft data ...`: synth, import, classify, analyze, curate."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import console, friendly_errors, not_built

app = typer.Typer(no_args_is_help=True)


@app.command("synth", help="Write the built-in bilingual multi-task data set (messy on purpose; --clean for none).")
@friendly_errors
def synth_cmd() -> None:
    not_built("data synth", "the task registry issue")


@app.command("import", help="Read Alpaca, ShareGPT, OpenAI messages, prompt/completion, Parquet, CSV or HF datasets into the record schema.")
@friendly_errors
def import_cmd(
    inputs: list[str] = typer.Argument(..., help="Files, folders of files, save_to_disk folders, or hf:NAME[:SPLIT]."),
    out: Path = typer.Option(..., "--out", "-o", help="Output JSONL; OUT.rejected.jsonl and OUT.summary.json go beside it."),
    fmt: str = typer.Option(None, "--format", help="Force a format: alpaca, sharegpt, openai, prompt_completion, fields."),
    mapping: list[str] = typer.Option(None, "--map", help="Column mapping KEY=COLUMN or KEY=TEMPLATE with {column}; "
                                       "KEY in prompt, response, system, task, lang, reference, id."),
    task: str = typer.Option(None, "--task", help="Trusted task label for every imported record."),
    lang: str = typer.Option(None, "--lang", help="Language for every imported record (zh, en, mixed)."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 2 when any record is rejected."),
) -> None:
    from mtsft.cli.render import import_table
    from mtsft.importers import import_to, sidecar

    result = import_to(inputs, out, fmt=fmt, mapping=mapping, task=task, lang=lang, progress=True)
    console.print(import_table(result))
    console.print(f"wrote {out} ({len(result.kept)} kept), {sidecar(out, 'rejected.jsonl')} "
                  f"({len(result.rejected)} rejected), {sidecar(out, 'summary.json')}", highlight=False)
    if strict and result.rejected:
        raise typer.Exit(2)


@app.command("classify", help="Label records without a trusted task with the signal + char n-gram classifier.")
@friendly_errors
def classify_cmd() -> None:
    not_built("data classify", "the curation issue")


@app.command("analyze", help="Per-task counts, token lengths, languages, turns and duplicates; terminal table and HTML page.")
@friendly_errors
def analyze_cmd() -> None:
    not_built("data analyze", "the curation issue")


@app.command("curate", help="classify -> balance -> quality -> dedup -> conflicts -> validate, every record accounted for.")
@friendly_errors
def curate_cmd() -> None:
    not_built("data curate", "the curation issue")
