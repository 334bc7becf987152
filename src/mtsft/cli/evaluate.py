"""`mtsft eval ...`: `run` generates and scores a suite; `score` scores predictions made anywhere."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import (config_option, friendly_errors, model_option, out_option, path_str, print_log,
                              set_option, task_tags_option)
from mtsft.runfiles import PREDICTIONS, SCORES

app = typer.Typer(no_args_is_help=True)


@app.command("score", help="Score records that carry a `prediction` field; per-task table and JSON.")
@friendly_errors
def score_cmd(
    predictions: Path = typer.Option(..., "--predictions", "-p", help="JSONL records with a `prediction` field."),
    out: Path = out_option(f"Output file: the JSON report (default: PREDICTIONS.{SCORES})."),
    unsafe_exec: bool = typer.Option(False, "--unsafe-exec", help="Run the predictions' code without the OS wall "
                                     "(bubblewrap) when none is available. Only for code you trust."),
) -> None:
    from mtsft.cli.common import console
    from mtsft.eval.prediction_scores import score_file, scores_table
    from mtsft.outputs import check_file
    from mtsft.runfiles import scores_beside, write_scores

    out = check_file(out or scores_beside(predictions), [predictions])  # before any scoring
    result = score_file(predictions, allow_unsafe=unsafe_exec or None)  # asked for by name
    write_scores(out, result, as_file=True)
    console.print(scores_table(result))
    for row in result["rejected"]:
        console.print(f"rejected {row['where']} ({row['id']}): {row['reason']}", markup=False, highlight=False,
                      soft_wrap=True)
    if result["rejected"]:
        console.print(f"{len(result['rejected'])} of {len(result['rejected']) + result['overall']['n']} records "
                      "rejected (not scored; listed under "
                      "\"rejected\" in the report)", highlight=False)
    console.print(f"wrote {out}")


@app.command("run", help="Generate answers to a suite and score each task with its verifier; --compare puts runs side by side.")
@friendly_errors
def run_cmd(
    model: str = model_option(),
    adapter: Path = typer.Option(None, "--adapter", help="A training run directory (mtsft train --out) to evaluate."),
    suite: list[str] = typer.Option(None, "--suite", help="builtin (default), real, multiturn (conversations "
                                    "switching task), or a record file; repeatable."),
    out: Path = out_option(f"Output folder: SUITE/{PREDICTIONS} and SUITE/{SCORES}."),
    task_tags: str = task_tags_option(),
    compare_dirs: list[Path] = typer.Option(None, "--compare", help="Earlier eval folders to show side by side (first = baseline)."),
    config: str = config_option("Eval config (EvalRunConfig keys)", shipped=False),
    set_: list[str] = set_option("per_task=16"),
    unsafe_exec: bool = typer.Option(False, "--unsafe-exec", help="Run model-written code without the OS wall "
                                     "(bubblewrap) when none is available. Only for code you trust."),
    own_turns: bool = typer.Option(False, "--own-turns", help="Multi-turn records: answer each turn after the "
                                   "model's own earlier answers (default: after the reference answers)."),
) -> None:
    from mtsft.cli.common import console
    from mtsft.cli.render import compare_table, eval_table
    from mtsft.config import load_config
    from mtsft.diagnose.compare import compare_runs
    from mtsft.eval.evaluate import EvalRunConfig, evaluate

    if out is None and not compare_dirs:
        raise ValueError("give --out DIR to evaluate, or --compare DIR DIR to compare earlier runs")
    if out is not None:
        cfg = load_config(EvalRunConfig, config, set_, {"model": model, "adapter": path_str(adapter),
                                                         "suites": list(suite) if suite else None, "out": str(out),
                                                         "task_tags": task_tags, "unsafe_exec": unsafe_exec or None,
                                                         "own_turns": own_turns or None})
        for name, result in evaluate(cfg, log=print_log).items():
            console.print(eval_table(name, result))
        console.print(f"wrote {out}/<suite>/{PREDICTIONS} and {SCORES}", highlight=False)
    dirs = list(compare_dirs or []) + ([out] if out is not None and compare_dirs else [])
    if dirs:
        console.print(compare_table(compare_runs(dirs), [str(d) for d in dirs]))
