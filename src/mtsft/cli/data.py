"""`mtsft data ...`: synth, import, classify, analyze, curate."""

from __future__ import annotations

from pathlib import Path

import typer

from mtsft.cli.common import (config_option, console, deprecated, deprecated_option, friendly_errors, from_config,
                              out_option, print_log, set_option)
from mtsft.data.config import ClassifyConfig

app = typer.Typer(no_args_is_help=True)


@app.command("synth", help="Write the built-in bilingual multi-task data set (messy on purpose; --clean for none).")
@friendly_errors
def synth_cmd(
    out: Path = out_option("Output file: the records (JSONL).", required=True),
    n: int = typer.Option(1000, "--n", help="Number of records."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed writes the same file."),
    lang: str = typer.Option("zh,en", "--lang", help="Comma-separated languages: zh, en or both."),
    clean: bool = typer.Option(False, "--clean", help="No injected defects (task counts stay skewed)."),
    eval_split: bool = typer.Option(False, "--eval", help="A clean, task-balanced split drawn from the held-out templates and held-out content."),
) -> None:
    import time

    from mtsft.outputs import check_file
    from mtsft.records import write_jsonl
    from mtsft.tasks.synth import stats_table, synth_records, synth_stats

    check_file(out)
    start = time.perf_counter()
    records = synth_records(n, seed=seed, langs=[x.strip() for x in lang.split(",") if x.strip()],
                            clean=clean, eval_split=eval_split)
    write_jsonl(out, records)
    console.print(stats_table(synth_stats(records)))
    console.print(f"wrote {len(records)} records to {out} in {time.perf_counter() - start:.1f} s")


@app.command("import", help="Read Alpaca, ShareGPT, OpenAI messages, prompt/completion, Parquet, CSV or HF datasets into the record schema.")
@friendly_errors
def import_cmd(
    inputs: list[str] = typer.Argument(..., help="Files, folders of files, save_to_disk folders, or hf:NAME[:SPLIT]."),
    out: Path = out_option("Output file: the records (JSONL); OUT.rejected.jsonl and OUT.summary.json go beside it.",
                           required=True),
    fmt: str = typer.Option(None, "--format", help="Force a format: alpaca, sharegpt, openai, prompt_completion, fields."),
    mapping: list[str] = typer.Option(None, "--map", help="Column mapping KEY=COLUMN or KEY=TEMPLATE with {column}; "
                                       "KEY in prompt, response, system, task, lang, reference, id."),
    task: str = typer.Option(None, "--task", help="Trusted task label for every imported record."),
    lang: str = typer.Option(None, "--lang", help="Language for every imported record (zh, en, mixed)."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 2 when any record is rejected."),
) -> None:
    from mtsft.cli.render import import_table
    from mtsft.importers import import_to, sidecar

    result = import_to(inputs, out, fmt=fmt, mapping=mapping, task=task, lang=lang, progress=True)
    console.print(import_table(result))
    console.print(f"wrote {out} ({len(result.kept)} kept), {sidecar(out, 'rejected.jsonl')} "
                  f"({len(result.rejected)} rejected), {sidecar(out, 'summary.json')}", highlight=False)
    if strict and result.rejected:
        raise typer.Exit(2)


@app.command("classify", help="Label records without a trusted task with the signal + char n-gram classifier.")
@friendly_errors
def classify_cmd(
    inputs: list[str] = typer.Argument(..., help="mtsft record files (JSONL)."),
    out: Path = out_option("Output file: every record with task, confidence and method (JSONL).", required=True),
    config: str = config_option("Classifier settings (ClassifyConfig keys)", shipped=False),
    overrides: list[str] = set_option("threshold=0.6"),
    threshold: float = from_config(ClassifyConfig, "threshold", "--threshold",
                                   help="Below this confidence the task is 'uncertain'."),
    relabel: bool = typer.Option(False, "--relabel", help="Classify every record, ignoring the labels it has."),
) -> None:
    from mtsft.config import load_config
    from mtsft.data.classify import classify_file

    cfg = load_config(ClassifyConfig, config, overrides,
                      {"threshold": threshold, "trust_labels": False if relabel else None})
    summary = classify_file(inputs, str(out), cfg)
    for line in summary["rejected"]:
        console.print(f"rejected {line}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"wrote {summary['records']:,} records to {out} ({summary['unreadable']} unreadable lines skipped)")
    console.print("by task:   " + ", ".join(f"{t} {n:,}" for t, n in summary["by_task"].items()), highlight=False)
    console.print("by method: " + ", ".join(f"{m} {n:,}" for m, n in summary["by_method"].items()), highlight=False)


@app.command("analyze", help="Per-task counts, token lengths, languages, turns and duplicates; terminal table and HTML page.")
@friendly_errors
def analyze_cmd(
    inputs: list[str] = typer.Argument(..., help="mtsft record files (JSONL)."),
    out: Path = out_option("Output file: an HTML page with the table and plots."),
    tokenizer: str = typer.Option(None, "--tokenizer", help="Model spec for token lengths (e.g. builtin); default: estimate."),
    near: bool = typer.Option(True, "--near/--no-near", help="Measure near duplicates (MinHash) too."),
    json_out: Path = typer.Option(None, "--json", help="Also write the table rows as JSON here."),
    html: Path = deprecated_option("--html", "-o/--out"),
) -> None:
    from mtsft.data.analyze import analyze_files, rich_table
    from mtsft.outputs import check_file, write_json_atomic

    if out and html:
        raise ValueError("give -o/--out (--html is its old name), not both")
    html = out or deprecated(html, "--html", "-o/--out")
    if json_out:
        check_file(json_out, [*inputs, html], flag="--json")
    analysis = analyze_files(inputs, html, tokenizer, near=near)
    console.print(rich_table(analysis))
    for line in analysis.rejected:
        console.print(f"rejected {line}", markup=False, highlight=False, soft_wrap=True)
    if json_out:
        write_json_atomic(json_out, analysis.rows)
    if html:
        console.print(f"HTML page: {html}")


@app.command("curate", help="classify -> quality -> conflicts -> dedup -> balance -> validate, every record accounted for.")
@friendly_errors
def curate_cmd(
    inputs: list[str] = typer.Argument(..., help="Record files (JSONL; other formats go through the importers)."),
    out: Path = out_option("Output folder: kept/rejected/review.jsonl, manifest.json, report.md/html.", required=True),
    config: str = config_option("Curation settings (CurateConfig keys; default: the code's defaults)", shipped=False),
    overrides: list[str] = set_option("dedup.threshold=0.7"),
    strategy: str = typer.Option(None, "--strategy", help="proportional, temperature, uniform or weights."),
    weights: str = typer.Option(None, "--weights", help="task=w,... (implies --strategy weights)."),
    total: int = typer.Option(None, "--total", help="Target number of records after balancing."),
    eval_data: list[str] = typer.Option(None, "--eval-data", help="Held-out evaluation record files: training records "
                                        "that leak into them are dropped (repeatable)."),
    seed: int = typer.Option(None, "--seed", help="Random seed (same input + seed = same kept.jsonl)."),
    difficulty_model: str = typer.Option(None, "--difficulty-model", help="Model spec that scores each record's "
                                         "difficulty by its answer loss (default: heuristics only)."),
    tokenizer: str = typer.Option(None, "--tokenizer", help="Model spec whose tokenizer measures lengths (default: estimate)."),
    workers: int = typer.Option(None, "--workers", min=1, help="Processes for per-record rounds (default: every core); "
                                "the result is the same whatever the count."),
    engine: str = typer.Option("local", "--engine", help="local (this machine's processes) or ray (Ray Data; pip install 'mtsft\\[ray]')."),
    address: str = typer.Option(None, "--address", help="--engine ray: the cluster to join (e.g. 10.0.0.1:6379 or auto); "
                                "default: a local Ray instance."),
    shards: str = typer.Option("jsonl", "--shards", help="--engine ray: kept records also as Ray Data shards in OUT/kept/ (jsonl or parquet)."),
    old_eval: list[str] = deprecated_option("--eval", "--eval-data"),
    old_model: str = deprecated_option("--model", "--difficulty-model"),
) -> None:
    from mtsft.config import load_config
    from mtsft.data.config import CurateConfig
    from mtsft.data.curate import curate_files
    from mtsft.mixture import parse_weights

    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"--engine {engine!r}: local or ray")
    if engine == "local" and address:
        raise typer.BadParameter("--address joins a Ray cluster: use it with --engine ray")
    eval_files = [*(eval_data or []), *(deprecated(old_eval, "--eval", "--eval-data") or [])]
    difficulty_model = difficulty_model or deprecated(old_model, "--model", "--difficulty-model")
    parsed = parse_weights(weights)
    cfg = load_config(CurateConfig, config, overrides, {
        "balance.strategy": "weights" if parsed else strategy, "balance.weights": parsed, "balance.total": total,
        "seed": seed, "difficulty_model": difficulty_model, "tokenizer": tokenizer, "workers": workers})
    if engine == "ray":
        from mtsft.data.engine_ray import curate_ray

        result = curate_ray(inputs, cfg, out, eval_files=eval_files, address=address, shards=shards, log=print_log)
    else:
        result = curate_files(inputs, cfg, out, eval_files=eval_files, log=print_log)
    console.print(f"{result.inputs:,} inputs: {len(result.kept) - result.upsampled:,} kept + {len(result.rejected):,} "
                  f"rejected ({len(result.review):,} to review), {result.upsampled:,} up-sampled copies", highlight=False)
    console.print(f"report: {out / 'report.html'}")
    for check in result.checks:
        mark = "[green]ok[/]" if check.ok else "[bold red]FAIL[/]"
        console.print(f"  {mark} {check.name}: {check.detail}" + ("" if check.ok else f"\n       fix: {check.fix}"),
                      highlight=False)
    if not result.ok and cfg.validate_.fail_on_error:
        raise typer.Exit(1)
