"""`mtsft train` and `mtsft export`."""

from __future__ import annotations

import typer

from mtsft.cli.common import friendly_errors, not_built


def register(app: typer.Typer) -> None:
    @app.command(help="LoRA / QLoRA / full SFT with multi-task controls, staged schedules and per-task eval loss.")
    @friendly_errors
    def train() -> None:
        not_built("train", "the training issue")

    @app.command(help="Export a run as a plain Hugging Face model (--merge folds LoRA into the weights).")
    @friendly_errors
    def export() -> None:
        not_built("export", "the training issue")
