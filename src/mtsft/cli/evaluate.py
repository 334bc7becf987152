"""`mtsft eval ...`: score predictions with each task's verifier (generation comes with the eval issue)."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import friendly_errors, not_built

app = typer.Typer(no_args_is_help=True)


@app.command("score", help="Score records that carry a `prediction` field; per-task table and JSON.")
@friendly_errors
def score_cmd(
    predictions: Path = typer.Option(..., "--predictions", "-p", help="JSONL records with a `prediction` field."),
    out: Path = typer.Option(None, "--out", "-o", help="JSON report (default: PREDICTIONS.scores.json)."),
) -> None:
    import json

    from mtsft.cli.common import console
    from mtsft.eval.scoring import read_predictions, score_predictions, scores_table

    result = score_predictions(read_predictions(predictions))
    out = out or predictions.with_suffix(".scores.json")
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    console.print(scores_table(result))
    console.print(f"wrote {out}")


@app.command("run", help="Batched generation and per-task scores, base vs tuned (not built yet).")
def run_cmd() -> None:
    not_built("eval run", "evaluation comes in its own issue")
