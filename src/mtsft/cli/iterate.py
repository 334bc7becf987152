"""`mtsft iterate`: run, diagnose, apply the levers, run again; writes MULTITASK_ITERATION_LOG.md."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import config_option, console, friendly_errors, out_option, path_str, print_log, set_option


def register(app: typer.Typer) -> None:
    @app.command(help="Run -> diagnose -> apply the levers -> run again, until every verdict passes; "
                      "writes MULTITASK_ITERATION_LOG.md from the real runs.")
    @friendly_errors
    def iterate(
        rounds: int = typer.Option(3, "--rounds", help="Versions after v0.1 at most."),
        profile: str = typer.Option(None, "--profile", help="tiny | demo | full: v0.1's config (the recipe run/PROFILE)."),
        config: str = config_option("v0.1's RunConfig"),
        set_: list[str] = set_option("train.lr=1e-4 (keys of v0.1's RunConfig)"),
        out: Path = out_option("Output folder: every version's run folder and the log (default runs/iterate)."),
    ) -> None:
        from mtsft.config import load_config
        from mtsft.iterate import IterateConfig, iterate as run_iterations
        from mtsft.run import RunConfig

        if profile and config:
            raise ValueError("give --profile or -c, not both")
        run_cfg = load_config(RunConfig, config or f"run/{profile or 'demo'}", set_)
        cfg = load_config(IterateConfig, values={"run": run_cfg, "rounds": rounds, "out": path_str(out)})
        versions = run_iterations(cfg, log=print_log)
        console.print(f"{len(versions)} versions; log: {Path(cfg.out) / 'MULTITASK_ITERATION_LOG.md'}", highlight=False)
