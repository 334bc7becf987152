"""`mtsft run`: the whole loop on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import config_option, console, friendly_errors, model_option, set_option
from mtsft.cli.render import run_table


def register(app: typer.Typer) -> None:
    @app.command(help="The whole loop on the embedded defaults: synth -> curate -> train -> generate -> score.")
    @friendly_errors
    def run(
        config: str = config_option("RunConfig keys (see mtsft.run)"),
        set_: list[str] = set_option("n=3000 or train.lr=1e-4"),
        out: str = typer.Option(None, "--out", help="Run folder (default runs/pipeline)."),
        model: str = model_option(),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier run in --out."),
    ) -> None:
        from mtsft.config import load_config
        from mtsft.run import RunConfig, run_pipeline

        cfg = load_config(RunConfig, config, set_, {"out": out, "model": model, "overwrite": overwrite or None})
        summary = run_pipeline(cfg, log=console.print)
        console.print(run_table(summary))
        console.print(f"summary: {Path(summary['out']) / 'summary.json'}", highlight=False)
