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
def import_cmd() -> None:
    not_built("data import", "the foundation issue")


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
