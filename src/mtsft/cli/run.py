"""`mtsft run`: the whole loop on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import console, friendly_errors
from mtsft.cli.render import run_table


def register(app: typer.Typer) -> None:
    @app.command(help="The whole loop on the embedded defaults: synth -> curate -> train -> generate -> score.")
    @friendly_errors
    def run(
        config: Path = typer.Option(None, "-c", "--config", help="YAML with RunConfig keys (see mtsft.run)."),
        set_: list[str] = typer.Option([], "--set", help="Override a key: --set n=3000 (repeatable)."),
        out: str = typer.Option(None, "--out", help="Run folder (default runs/pipeline)."),
        model: str = typer.Option(None, "--model", help="builtin (default), tiny, a hub id or a local dir."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier run in --out."),
    ) -> None:
        from mtsft.config import load_config
        from mtsft.run import RunConfig, run_pipeline

        cfg = load_config(RunConfig, config, set_, {"out": out, "model": model, "overwrite": overwrite or None})
        summary = run_pipeline(cfg, log=console.print)
        console.print(run_table(summary))
        console.print(f"summary: {Path(summary['out']) / 'summary.json'}", highlight=False)
