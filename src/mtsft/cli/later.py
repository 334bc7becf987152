"""Commands whose stages come in later issues: they say so plainly and exit 3; nothing pretends to work."""

from __future__ import annotations

import typer

from mtsft.cli.common import not_built


def register(app: typer.Typer) -> None:
    @app.command(help="Measure the five multi-task problems and write the fix (not built yet).")
    def diagnose(run: str = typer.Argument(None)) -> None:
        not_built("diagnose", "evaluation and diagnosis come in their own issue")

    @app.command(help="Curate -> train -> eval -> diagnose -> remix, repeated (not built yet).")
    def iterate() -> None:
        not_built("iterate", "the whole loop comes in its own issue")

    @app.command(help="Chat with a model in the terminal (not built yet).")
    def chat(model: str = typer.Option("builtin", "--model")) -> None:
        not_built("chat", "serving comes in its own issue")

    @app.command(help="OpenAI-compatible HTTP API with a web chat page (not built yet).")
    def serve(model: str = typer.Option("builtin", "--model")) -> None:
        not_built("serve", "serving comes in its own issue")
