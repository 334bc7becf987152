"""`mtsft run`: the whole loop on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import config_option, console, friendly_errors, model_option, out_option, print_log, set_option
from mtsft.cli.render import problems_table, run_table


def register(app: typer.Typer) -> None:
    @app.command(help="The whole loop: data -> curate -> train -> eval base and tuned -> summary; finished stages are reused.")
    @friendly_errors
    def run(
        profile: str = typer.Option(None, "--profile", help="tiny (a minute, tests) | demo (the embedded model, "
                                    "CPU, the default) | full (GPU): the shipped recipe run-PROFILE."),
        config: str = config_option("RunConfig keys (see mtsft.run)"),
        data: list[Path] = typer.Option(None, "--data", help="Your record files instead of the built-in synth suite."),
        with_synth: bool = typer.Option(False, "--with-synth", help="With --data: mix the built-in synth suite in too."),
        eval_data: list[Path] = typer.Option(None, "--eval-data", help="Your held-out record files, scored base and "
                                             "tuned as the suite 'yours' (kept out of training)."),
        force: list[str] = typer.Option(None, "--force", help="Redo this stage even if finished: data, curate, "
                                        "train, eval_base, eval_tuned (repeatable)."),
        set_: list[str] = set_option("n=3000 or train.lr=1e-4"),
        out: str = out_option("Output folder: the run, one subfolder per stage (default runs/pipeline)."),
        model: str = model_option(),
        overwrite: bool = typer.Option(False, "--overwrite", help="Redo every stage (finished ones are reused otherwise)."),
    ) -> None:
        from mtsft.config import load_config
        from mtsft.run import RunConfig, run_pipeline

        if profile and config:
            raise ValueError("give --profile or -c, not both (a profile is the shipped recipe run/PROFILE)")
        cfg = load_config(RunConfig, config or f"run/{profile or 'demo'}", set_, {
            "out": out, "model": model, "overwrite": overwrite or None, "force": list(force) if force else None,
            "data": [str(p) for p in data] if data else None, "with_synth": with_synth or None,
            "eval_data": [str(p) for p in eval_data] if eval_data else None})
        summary = run_pipeline(cfg, log=print_log)
        console.print(run_table(summary))
        if summary.get("problems"):
            console.print(problems_table(summary["problems"]))
        diagnosis = summary.get("diagnosis")
        if diagnosis:
            verdicts = ", ".join(f"{p} {s}" for p, s in diagnosis["verdicts"].items())
            console.print(f"diagnosis: {verdicts}\nreport: {diagnosis['report']}", highlight=False)
        console.print(f"summary: {Path(summary['out']) / 'summary.json'}", highlight=False)
