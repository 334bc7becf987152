"""`mtsft runs ls [DIR]` lists the runs under a folder; `mtsft runs compare RUN RUN...` puts them side by side
and writes a self-contained HTML page (mtsft.diagnose.runs)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mtsft.cli.common import config_option, console, friendly_errors, out_option, set_option

app = typer.Typer(no_args_is_help=True)


def print_table(head: list[str], body: list[list[str]], title: str | None = None) -> None:
    """A Rich table on a terminal; tab-separated lines otherwise (a pipe, a file, a script reads them)."""
    if not console.is_terminal:
        for row in [head, *body]:
            typer.echo("\t".join(row))
        return
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(head):
        numeric = all(not row[i] or row[i][0] in "0123456789+-" for row in body)
        table.add_column(col, justify="right" if numeric else "left")
    for row in body:
        table.add_row(*row, style="bold" if len(row) > 1 and row[1] in ("overall", "macro") else None)
    console.print(table)


def _config(config, set_):
    from mtsft.config import load_config
    from mtsft.diagnose.runs import RunsConfig

    return load_config(RunsConfig, config, set_)


@app.command("ls", help="List the runs under a folder: model, method, data size, date, macro score per suite.")
@friendly_errors
def ls_cmd(
    folder: Path = typer.Argument(Path("runs"), help="The folder to look in (default: runs)."),
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON instead of a table."),
    out: Path = out_option("Output file: the list as JSON (default: only printed)."),
    config: str = config_option("Runs settings (RunsConfig keys)", shipped=False),
    set_: list[str] = set_option("depth=2"),
) -> None:
    from dataclasses import asdict

    from mtsft.diagnose.runs import find_runs, list_rows
    from mtsft.outputs import check_file, write_json_atomic

    if out is not None:
        check_file(out)
    entries = find_runs(folder, _config(config, set_))
    listing = [asdict(e) for e in entries]
    if out is not None:
        write_json_atomic(out, listing)
    if as_json:
        typer.echo(json.dumps(listing, ensure_ascii=False, indent=1))
    elif entries:
        print_table(*list_rows(entries), title=f"runs under {folder}")
    else:
        typer.echo(f"no runs under {folder}", err=True)


@app.command("compare", help="Per-task scores of two runs or more side by side, each later run's change from the "
                             "first with its paired 95% interval where both answered the same records; writes "
                             "OUT/compare.html (self-contained) and OUT/compare.json.")
@friendly_errors
def compare_cmd(
    runs: list[Path] = typer.Argument(..., help="Run folders (mtsft run, or mtsft eval run --out); the first is "
                                                 "the one the others are compared with."),
    out: Path = out_option("Output folder: compare.html and compare.json.", default=Path("runs/compare")),
    config: str = config_option("Runs settings (RunsConfig keys)", shipped=False),
    set_: list[str] = set_option("eval=base"),
) -> None:
    from mtsft.diagnose.runs import compare_many, table_rows, write_comparison
    from mtsft.outputs import check_folder

    check_folder(out, selective=runs)            # the output rule, before any reading
    comparison = compare_many(runs, _config(config, set_))
    print_table(*table_rows(comparison), title="per-task scores; change vs the first run with its paired 95% "
                                               "interval (* = excludes 0; n/a: different records)")
    paths = write_comparison(comparison, out)
    console.print(f"wrote {paths['html']} and {paths['json']}", highlight=False, soft_wrap=True)
