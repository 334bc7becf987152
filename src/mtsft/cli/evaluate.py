"""`mtsft eval ...`: score predictions with each task's verifier (generation comes with the eval issue)."""

from __future__ import annotations

import typer

from mtsft.cli.common import friendly_errors, not_built

app = typer.Typer(no_args_is_help=True)


@app.command("score", help="Score records that carry a `prediction` field; per-task table and JSON.")
@friendly_errors
def score_cmd() -> None:
    not_built("eval score", "the task registry issue")


@app.command("run", help="Batched generation and per-task scores, base vs tuned (not built yet).")
def run_cmd() -> None:
    not_built("eval run", "evaluation comes in its own issue")
