"""`mtsft diagnose RUN`: the five multi-task problems measured on a run, the levers, the report;
`--apply --out NEW.yaml` writes the changed run config for `mtsft run -c NEW.yaml`."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import config_option, console, friendly_errors, out_option, print_log, set_option


def verdict_table(diagnosis):
    from rich.table import Table

    from mtsft.diagnose.report import verdict_rows

    rows = verdict_rows(diagnosis)
    table = Table(title="diagnosis: each problem decided on 95% intervals against its threshold")
    for col in rows[0]:
        table.add_column(col)
    style = {"fires": "bold red", "undecided": "yellow", "ok": "green", "n/a": "dim"}
    for r in rows[1:]:
        table.add_row(r[0], f"[{style.get(r[1], '')}]{r[1]}[/]", *r[2:])
    return table


def register(app: typer.Typer) -> None:
    @app.command(help="Measure the five multi-task problems on a run (uneven performance, crosstalk, format "
                      "confusion, forgetting, overfitting to frequent tasks), name the levers, write the report; "
                      "--apply --out NEW.yaml writes the changed run config.")
    @friendly_errors
    def diagnose(
        run: Path = typer.Argument(None, help="A `mtsft run` folder (eval_base, eval_tuned, train, curate)."),
        base: Path = typer.Option(None, "--base", help="Base model's eval folder (mtsft eval run --out)."),
        tuned: Path = typer.Option(None, "--tuned", help="Tuned model's eval folder."),
        train: Path = typer.Option(None, "--train", help="The training run folder (task_loss.csv, config.yaml)."),
        run_config: Path = typer.Option(None, "--run-config", help="The run config to change (default: "
                                        "RUN/config.yaml, else rebuilt from the training config)."),
        apply: bool = typer.Option(False, "--apply", help="Write the changed run config to --out."),
        out: Path = out_option("Output file: the changed run config (YAML) that --apply writes."),
        report: Path = typer.Option(None, "--report", help="Report folder (default RUN/diagnose, or the tuned "
                                    "folder's diagnose/)."),
        perplexity: bool = typer.Option(True, "--perplexity/--no-perplexity",
                                        help="Measure general perplexity with the base and tuned models."),
        config: str = config_option("Diagnose thresholds (DiagnoseConfig keys)", shipped=False),
        set_: list[str] = set_option("uneven.max_spread=0.3"),
    ) -> None:
        import yaml

        from mtsft.config import load_config
        from mtsft.diagnose import DiagnoseConfig, diagnose_run
        from mtsft.diagnose.levers import changed_config
        from mtsft.diagnose.report import write_report
        from mtsft.outputs import check_file, check_folder, write_text_atomic
        from mtsft.run import RunConfig

        if run is None and tuned is None:
            raise ValueError("give RUN (a `mtsft run` folder) or --tuned EVAL_DIR [--base EVAL_DIR --train RUN]")
        if apply and out is None:
            raise ValueError("--apply needs --out NEW.yaml")
        folder = report or (run / "diagnose" if run else Path(tuned) / "diagnose")
        # the output rule, before any measuring: never over what diagnose reads, a FIFO, a user's folder
        read = [run_config, run / "config.yaml" if run else None, train / "config.yaml" if train else None]
        check_folder(folder, read, flag="--report", selective=[run, base, tuned, train])
        if apply:
            check_file(out, [*read, folder], selective=[run, base, tuned, train])
        cfg = load_config(DiagnoseConfig, config, set_, {"perplexity": perplexity})
        d = diagnose_run(run, base=base, tuned=tuned, train=train, config=run_config, cfg=cfg, log=print_log)
        console.print(verdict_table(d))
        for lever in d.levers:
            console.print(f"[bold]{lever.problem}[/]: {lever.name}", highlight=False)
            for ch in lever.changes:
                console.print(f"   {ch.path}: {ch.old!r} -> {ch.new!r}", highlight=False)
            if lever.advice:
                console.print(f"   by hand: {lever.advice}", highlight=False)
        paths = write_report(d, folder)
        console.print(f"report: {paths['html']} and {paths['md']}", highlight=False)
        if apply:
            new = changed_config(d.inputs, d.levers, RunConfig)   # validated: what `mtsft run -c` accepts
            write_text_atomic(out, yaml.safe_dump(new.model_dump(mode="json", by_alias=True, exclude_unset=True),
                                                  sort_keys=False, allow_unicode=True))
            changed = sum(len(lv.changes) for lv in d.levers)
            console.print(f"wrote {out} ({changed} changes; run it with `mtsft run -c {out}`)", highlight=False)
