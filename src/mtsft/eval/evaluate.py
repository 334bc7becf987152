"""`mtsft eval run`: generate answers to a suite of held-out records and score each with its task's verifier.

    suite (builtin synth eval split | shipped real slices | multiturn: task switches | your files)
      -> prompts rendered with the run's task-tag mode -> batched greedy generation, per-task token caps
         (a multi-turn record, `meta.turns`: every assistant turn answered and scored, after the reference
         earlier turns or with `own_turns` the model's own: `answer_turns`)
      -> predictions.jsonl (prompt, prediction, reference, score, metric, violations, what the output looks like)
      -> scores.json (per-task scores with bootstrap confidence intervals)

One path for every caller: `mtsft run`, `mtsft eval run` and a notebook all call `evaluate(cfg)` or
`evaluate_records(...)`. `mtsft.diagnose.compare.compare_runs(dirs)` puts runs side by side (base vs tuned,
v1 vs v2) on paired differences.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from typing import Literal

from pydantic import AliasChoices, Field

from mtsft import runfiles
from mtsft.config import Seed, StrictConfig
from mtsft.records import read_records
from mtsft.tags import TagMode

# Generated tokens a task's answer needs at most (greedy stops earlier at the end of the turn). Labels and
# short answers are cut early so one long-winded answer does not hold a whole batch.
MAX_NEW_TOKENS_BY_FAMILY = {"knowledge": 96, "structured": 128, "transform": 160, "reasoning": 256, "open": 192}
DEFAULT_MAX_NEW_TOKENS = 192


class EvalRunConfig(StrictConfig):
    """`mtsft eval run`'s config. Under `mtsft run` it is `RunEvalConfig` (run.py): the run sets `model` and
    `adapter` itself, scores its own held-out files (`suites`, `out`, `per_task`, `langs`, `seed` unread) and
    re-defaults `max_new_tokens` (96) and `real_per_set` (24)."""

    model: str = "builtin"                 # base model spec (builtin, tiny, a hub id, a directory)
    adapter: str | None = None             # a training run directory (its weights and its task-tag mode)
    suites: list[str] = ["builtin"]        # builtin | real | multiturn | a record file (JSONL) with references
    out: str = "runs/eval"
    per_task: int = Field(8, ge=1)         # builtin suite: records per task and language
    multiturn_n: int = Field(24, ge=1)     # multiturn suite: conversations (3 turns, 2 task switches each)
    # multi-turn records: earlier assistant turns are the references (False) or the model's own answers
    own_turns: bool = False
    langs: list[str] = ["zh", "en"]
    seed: Seed = 1                         # builtin suite draw (training synth uses seed 0)
    real_per_set: int | None = Field(None, ge=1)     # real suite: at most this many records per shipped set
    # rows decoded together: 64 in bf16 (the eval's precision here) answered 96 built-in prompts in 37.4 s
    # against 41.4-46.0 s at 32, alone on 2 cores (fp32 peaked at 32: bench_generate)
    batch_size: int = Field(64, ge=1)
    max_new_tokens: int | None = Field(None, ge=1)   # None: each task family's own cap
    # None: the adapter run's mode, else "none". `tag_mode`, its old name, still loads (earlier runs' config.yaml).
    task_tags: TagMode | None = Field(None, validation_alias=AliasChoices("task_tags", "tag_mode"))
    bootstrap: int = Field(1000, ge=0)     # resamples for the per-task confidence intervals (0: none)
    unsafe_exec: bool = False              # run generated code without the OS wall when none is available
    # transformers (default, what tests run) | vllm (needs vllm and a CUDA GPU) | auto (vllm when usable)
    backend: Literal["transformers", "vllm", "auto"] = "transformers"
    # The weights' dtype while generating (transformers backend). auto: bf16 where it runs faster here (a GPU
    # with bf16; a CPU whose measured bf16 matmul beats fp32: mtsft.precision), else fp32. On the 2-core CPU
    # of the demo bf16 decodes 1.7x faster, and the base model's built-in score moved +0.011 [-0.021, +0.048]
    # against fp32 on the same 96 prompts (README, "Measured here"). Base and tuned always share it.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    progress: bool = True


# ---- suites ------------------------------------------------------------------------------------------

def load_suite(spec: str, cfg: EvalRunConfig) -> list[dict]:
    """Records with references: the built-in held-out split, the shipped real slices, or a file."""
    if spec == "builtin":
        from mtsft import tasks
        from mtsft.tasks.synth import synth_records

        n = cfg.per_task * len(cfg.langs) * len(tasks.names())
        records = synth_records(n, seed=cfg.seed, langs=tuple(cfg.langs), clean=True, eval_split=True)
    elif spec == "real":
        from mtsft.datasets import real_eval_records

        records = real_eval_records(per_set=cfg.real_per_set)
    elif spec == "multiturn":
        from mtsft.tasks.multiturn import multiturn_records

        records = multiturn_records(cfg.multiturn_n, seed=cfg.seed, langs=tuple(cfg.langs))
    else:
        if not Path(spec).is_file():
            raise FileNotFoundError(f"suite {spec!r}: not builtin, real, multiturn, or an existing record file")
        records = read_records(spec, turns=True)
    missing = [r.get("id") for r in records if not r.get("task")]
    if missing:
        raise ValueError(f"suite {spec}: {len(missing)} records have no task (first: {missing[0]}); "
                         "classify them first (mtsft data classify)")
    return [{**r, "meta": {**(r.get("meta") or {}), "suite": spec}} for r in records]


def last_prompt(record: dict) -> list[dict]:
    """The conversation up to the last assistant turn: what the model answers."""
    last = max(i for i, m in enumerate(record["messages"]) if m["role"] == "assistant")
    return record["messages"][:last]


def max_new_tokens_for(task_name: str, cfg: EvalRunConfig) -> int:
    if cfg.max_new_tokens:
        return cfg.max_new_tokens
    from mtsft import tasks

    try:
        task = tasks.get(task_name)
    except KeyError:
        return DEFAULT_MAX_NEW_TOKENS
    return getattr(task, "max_new_tokens", None) or MAX_NEW_TOKENS_BY_FAMILY.get(task.family, DEFAULT_MAX_NEW_TOKENS)


# ---- generation and scoring --------------------------------------------------------------------------

def generate_answers(model, tokenizer, records: list[dict], cfg: EvalRunConfig, tag_mode: str) -> list[str]:
    """Greedy answers to each record's last turn, each within its task's token cap. The transformers path
    runs every record in one stream (a row leaves when its answer ends, so short caps free rows early)."""
    from mtsft.eval.generate import generate, render_prompts
    from mtsft.eval.vllm_backend import VllmGenerator

    prompts = render_prompts(tokenizer, [last_prompt(r) for r in records], [r["task"] for r in records],
                             tag_mode, [r.get("lang") for r in records])
    caps = [max_new_tokens_for(r["task"], cfg) for r in records]
    if not isinstance(model, VllmGenerator):
        return generate(model, tokenizer, prompts, max_new_tokens=caps, batch_size=cfg.batch_size,
                        progress=cfg.progress)
    answers = [""] * len(records)
    by_cap: dict[int, list[int]] = {}
    for i, cap in enumerate(caps):
        by_cap.setdefault(cap, []).append(i)
    for cap, idx in sorted(by_cap.items()):
        for i, text in zip(idx, model.generate([prompts[i] for i in idx], max_new_tokens=cap)):
            answers[i] = text
    return answers


def answer_turns(model, tokenizer, records: list[dict], cfg: EvalRunConfig,
                 tag_mode: str) -> tuple[list[dict], list[str], list[list[dict]]]:
    """(scored records, answers, the conversation each answer replied to). A single-turn record is one
    scored record; a multi-turn record (`meta.turns`) one per assistant turn (`multiturn.turn_record`),
    each answered after the earlier turns: their reference answers, or with `cfg.own_turns` the model's
    own (then turn k is generated once every turn k-1 is, one round per turn position)."""
    from mtsft.records import turn_specs
    from mtsft.tasks.multiturn import turn_prompt, turn_record

    jobs: list[tuple[int, int | None]] = []          # (record, assistant turn or None for a single-turn record)
    for i, r in enumerate(records):
        specs = turn_specs(r)
        jobs += [(i, k) for k in range(len(specs))] if specs else [(i, None)]
    scored = [records[i] if k is None else turn_record(records[i], k) for i, k in jobs]
    answers: list[str] = [""] * len(jobs)
    asked: list[list[dict]] = [[] for _ in jobs]
    at = {job: j for j, job in enumerate(jobs)}
    rounds = sorted({k or 0 for _, k in jobs}) if cfg.own_turns else [None]
    for rnd in rounds:
        todo = [j for j, (_, k) in enumerate(jobs) if rnd is None or (k or 0) == rnd]
        for j in todo:
            i, k = jobs[j]
            own = [answers[at[(i, m)]] for m in range(k)] if cfg.own_turns and k else None
            asked[j] = last_prompt(records[i]) if k is None else turn_prompt(records[i], k, own)
        if todo:  # each turn asked as a record whose last answer follows that conversation
            ask = [scored[j] if jobs[j][1] is None else {**scored[j], "messages": asked[j] + scored[j]["messages"][-1:]}
                   for j in todo]
            out = generate_answers(model, tokenizer, ask, cfg, tag_mode)
            for j, text in zip(todo, out):
                answers[j] = text
    return scored, answers, asked


def looks_like(output: str) -> str | None:
    """The task an output looks like from the output alone (the crosstalk judge reads the prompt too)."""
    from mtsft import tasks
    from mtsft.tasks import formats

    if len(output) > formats.MAX_ANSWER_CHARS:  # not read: scoring gives it 0 unread too
        return None
    scores = {name: tasks.get(name).output_likeness(output) for name in tasks.names()}
    best = max(scores, key=scores.get) if scores else None
    return best if best is not None and scores[best] > 0 else None


def bootstrap_ci(values, samples: int = 1000, seed: int = 0) -> list[float] | None:
    """95% percentile bootstrap interval of the mean (None when there is nothing to resample); the diagnosis
    uses it too (`diagnose.stats.mean_ci`)."""
    if samples <= 0 or len(values) < 2:
        return None
    rng = np.random.default_rng(seed)
    arr = np.asarray(values, dtype=float)
    means = arr[rng.integers(0, len(arr), size=(samples, len(arr)))].mean(axis=1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]  # a list: JSON round-trips it


def score_answers(records: list[dict], answers: list[str], cfg: EvalRunConfig,
                  asked: list[list[dict]] | None = None) -> tuple[list[dict], dict]:
    """(prediction rows, scores summary with per-task confidence intervals and metric names). `asked`: the
    conversation each answer replied to (default: the record's up to its last answer); a row's `messages`
    are that conversation and the reference answer. A turn of a multi-turn record (`multiturn.turn_record`)
    adds `turn`, `turns`, `prev_task` and `conversation` to its row."""
    from mtsft import tasks
    from mtsft.eval.prediction_scores import score_predictions

    scored = [{**r, "prediction": a} for r, a in zip(records, answers)]
    result = score_predictions(scored, allow_unsafe=cfg.unsafe_exec or None)  # for this eval only, never process-wide
    rows = []
    for i, (r, a, per) in enumerate(zip(records, answers, result["per_record"])):
        conversation = asked[i] if asked else last_prompt(r)
        turn = ({k: r["meta"].get(k) for k in ("turn", "turns", "prev_task", "conversation")}
                if "turn" in r["meta"] else {})
        rows.append({"id": r.get("id"), "task": r["task"], "lang": r.get("lang"), "suite": r["meta"].get("suite"),
                     "prompt": last_prompt(r)[-1]["content"], "prediction": a, "reference": r.get("reference"),
                     "score": per["score"], "metric": _metric(r["task"]), "violations": per["violations"],
                     "looks_like": looks_like(a),
                     "messages": conversation + [r["messages"][-1]] if turn else r["messages"], **turn,
                     **({"rejected": per["rejected"]} if "rejected" in per else {})})  # not scored: why
    kept = [row for row in rows if "rejected" not in row]
    for task, summary in result["tasks"].items():
        values = [row["score"] for row in kept if row["task"] == task]
        summary["ci95"] = bootstrap_ci(values, cfg.bootstrap)
        summary["metric"] = _metric(task)
    result["overall"]["ci95"] = bootstrap_ci([row["score"] for row in kept], cfg.bootstrap)
    del result["per_record"]
    known = set(tasks.names())
    result["unknown_tasks"] = sorted({r["task"] for r in records} - known)
    return rows, result


def _metric(task_name: str) -> str:
    from mtsft import tasks

    try:
        return getattr(tasks.get(task_name), "metric", None) or "verifier"
    except KeyError:
        return "unknown task"


def evaluate_records(records: list[dict], cfg: EvalRunConfig, out: str | Path, *, model=None, tokenizer=None,
                     log=print) -> dict:
    """Generate, score and write predictions.jsonl + scores.json into `out`; returns the scores."""
    from mtsft.model import run_task_tags

    from mtsft import sandbox
    from mtsft.outputs import claim_folder

    out = claim_folder(out)  # an mtsft folder (the output rule): a rerun replaces only what mtsft wrote
    if model is None:
        model, tokenizer = load_generator(cfg, log=log)
    tag_mode = cfg.task_tags or (run_task_tags(cfg.adapter) if cfg.adapter else "none")
    start = time.perf_counter()
    scored, answers, asked = answer_turns(model, tokenizer, records, cfg, tag_mode)
    seconds = time.perf_counter() - start
    rows, result = score_answers(scored, answers, cfg, asked)
    result["run"] = {"model": cfg.model, "adapter": cfg.adapter, "suites": sorted({r["suite"] for r in rows}),
                     "dtype": str(getattr(model, "dtype", "")).removeprefix("torch.") or None,
                     "tag_mode": tag_mode, "records": len(rows), "generate_seconds": round(seconds, 1),
                     **({"conversations": len(records), "own_turns": cfg.own_turns} if len(scored) > len(records) else {}),
                     "code_exec": sandbox.mode(cfg.unsafe_exec or None)}  # bwrap | unsafe | unavailable: which wall
    runfiles.write_predictions(out, rows)
    runfiles.write_scores(out, result)
    return result


def load_generator(cfg: EvalRunConfig, *, log=print):
    """(model, tokenizer): the transformers model, or a vLLM generator when `cfg.backend` picks vLLM (the
    tokenizer still renders the prompts, so both backends see the same text)."""
    from mtsft.eval.vllm_backend import VllmGenerator, pick_backend
    from mtsft.model import load_for_inference, load_tokenizer, run_weights

    if pick_backend(cfg.backend) == "transformers":
        from mtsft.precision import resolve_precision, torch_dtype

        return load_for_inference(cfg.model, cfg.adapter, dtype=torch_dtype(resolve_precision(cfg.precision)),
                                  log=log)
    log("generation backend: vllm")
    tokenizer = load_tokenizer(str(run_weights(cfg.adapter)[0]) if cfg.adapter else cfg.model, log=log)
    return VllmGenerator(cfg.model, cfg.adapter, log=log), tokenizer


def evaluate(cfg: EvalRunConfig, *, log=print) -> dict:
    """`mtsft eval run`: every suite in `cfg.suites`, one predictions/scores pair per suite in `out/SUITE`."""
    from mtsft.outputs import claim_folder

    # before the model loads: never into a suite file, the adapter's run or a folder of the user's
    claim_folder(cfg.out, [s for s in cfg.suites if s not in ("builtin", "real", "multiturn")], selective=[cfg.adapter])
    model, tokenizer = load_generator(cfg, log=log)
    results = {}
    for spec in cfg.suites:
        name = Path(spec).stem if spec not in ("builtin", "real", "multiturn") else spec
        records = load_suite(spec, cfg)
        log(f"suite {name}: {len(records)} records")
        results[name] = evaluate_records(records, cfg, Path(cfg.out) / name, model=model, tokenizer=tokenizer, log=log)
    return results
