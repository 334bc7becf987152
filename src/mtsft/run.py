"""`mtsft run`: the whole loop in one folder, each stage a plain call of its library function.

    data (synth + the shipped real train slices, or your files) -> curate -> train
      -> eval base and tuned (built-in held-out suite + real eval slices) -> summary (and diagnosis when built)

Every stage writes into `OUT/STAGE/` and finishes by writing `OUT/STAGE/stage.json` (the hashes of its
config and input files). A rerun into the same folder reuses a stage only when that marker exists and both
hashes match; anything else is cleared and redone, and so is every stage after it (their inputs change).
`force=[STAGE]` (`--force train`) redoes one stage. Profiles are the shipped recipes in recipes/run/: `tiny`
(the tiny random model, about a minute: for tests), `demo` (the embedded 135M model on a 2-core CPU, the
default), `full` (sized for a GPU).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from mtsft.config import LearningRate, Seed, StrictConfig
from mtsft.data.config import BalanceConfig, CurateConfig, UpsampleWith
from mtsft.diagnose.config import DiagnoseConfig
from mtsft.eval.evaluate import EvalRunConfig
from mtsft.logs import print_log
from mtsft.outputs import claim_folder, write_json_atomic, write_text_atomic
from mtsft.runfiles import read_diagnosis, read_stage, stage_path, write_stage
from mtsft.tags import TagMode
from mtsft.train.config import TrainConfig
from mtsft.train.memory import release_freed_memory

STAGES = ("data", "curate", "train", "eval_base", "eval_tuned", "eval_seen", "diagnose")

# The stage fields `mtsft run` sets itself: path -> (the top-level key handed down as it is, or None where
# the run derives the value from its own folders; where to set it instead). A value given under the stage
# would be overwritten, so it is refused before any work.
SET_BY_RUN: dict[str, tuple[str | None, str]] = {
    "train.model": ("model", "--set model=... or --model"),
    "train.seed": ("seed", "--set seed=N"),
    "train.data": (None, "--set data=[FILE] or --data; the run trains on their curated copy"),
    "train.out": (None, "--set out=DIR or --out; the run trains into OUT/train"),
    "eval.model": ("model", "--set model=... or --model"),
    "eval.adapter": (None, "--set model=... for the base; the run scores the model it trains, and "
                           "`mtsft eval run --adapter RUN` scores another"),
}


def _refuse_set_by_run(section: str, value, info: ValidationInfo, defaults: dict):
    """A stage field the run sets itself may only hold its default (earlier runs' config.yaml dump it)."""
    if value != defaults[info.field_name].default:
        path = f"{section}.{info.field_name}"
        raise PydanticCustomError("set_by_run", "`mtsft run` sets {path} itself: set it at the top level ({hint})",
                                  {"path": path, "hint": SET_BY_RUN[path][1]})
    return value


class RunTrainConfig(TrainConfig):
    """`train` under `mtsft run`: the run trains its top-level `model` with its `seed` on the curated data,
    into OUT/train; those four fields are the run's (SET_BY_RUN) and refused here. Three defaults differ
    from `mtsft train`'s: the demo's recipe, chosen by bench/sweep_demo.py (README, "The demo recipe")."""

    # lr 1e-3 with task tags in the system turn: on the sweep's dev draw the built-in macro rose +0.138
    # [+0.055, +0.217] and no task fell, where 2e-4 untagged (the earlier default) rose +0.070 [-0.007, +0.151]
    # with translation falling (bench/results/sweep_demo.json, points A and B)
    lr: LearningRate = 1e-3
    task_tags: TagMode = "system"
    # half of `mtsft train`'s 1,024: the demo's long CMRC rows peaked at 4.8 GB summed PSS with 1,024-token
    # passes; the memory cap is 4 GB (issue 29.1)
    max_batch_tokens: int | None = Field(512, ge=8)

    @field_validator("model", "seed", "data", "out")
    @classmethod
    def _set_by_run(cls, value, info: ValidationInfo):
        return _refuse_set_by_run("train", value, info, TrainConfig.model_fields)


class RunBalanceConfig(BalanceConfig):
    """`curate.balance` under `mtsft run`: the demo trains on the registry's synth suite, whose generators can
    draw more of a rare task, so a task below its target grows with fresh records before copies."""

    upsample_with: UpsampleWith = "registry"


class RunCurateConfig(CurateConfig):
    """`curate` under `mtsft run`: one default differs from `mtsft curate`'s (RunBalanceConfig)."""

    balance: RunBalanceConfig = Field(default_factory=RunBalanceConfig)


class RunEvalConfig(EvalRunConfig):
    """`eval` under `mtsft run`. The run scores the data stage's held-out files (so `suites`, `per_task`,
    `langs`, `seed` and `out` are not read), base and tuned: `model` and `adapter` are the run's
    (SET_BY_RUN) and refused here. Two defaults differ from `mtsft eval run`'s, to keep the loop short."""

    # Capped answers keep the laptop-sized loop short; `mtsft eval run` uses each task's own cap (None).
    max_new_tokens: int | None = Field(96, ge=1)
    # Real eval records per shipped set (`mtsft eval run`: all of them); the data stage draws them. 48 a set
    # (about 24 a translation direction) is what a paired interval needs to separate a change of ~0.1.
    real_per_set: int | None = Field(48, ge=1)

    @field_validator("model", "adapter")
    @classmethod
    def _set_by_run(cls, value, info: ValidationInfo):
        return _refuse_set_by_run("eval", value, info, EvalRunConfig.model_fields)


class RunConfig(StrictConfig):
    """The whole loop's config: the stages' own configs, composed (`--set train.lr=1e-4`,
    `--set curate.balance.temperature=2`, `--set diagnosis.uneven.max_spread=0.3`). `model` and `seed` are
    the run's, handed to every stage: the stage fields the run sets itself (SET_BY_RUN) are refused."""

    SET_BY_RUN: ClassVar[dict[str, tuple[str | None, str]]] = SET_BY_RUN
    RECIPES: ClassVar[str] = "run"   # `--profile demo`, `-c demo`: mtsft/recipes/run/demo.yaml

    out: str = "runs/pipeline"
    model: str = "builtin"
    seed: Seed = 0
    data: list[str] = []                        # your record files; empty: the built-in synth suite
    with_synth: bool = False                    # with `data`: mix the built-in synth suite in as well
    # Your held-out record files, scored base and tuned as the suite "yours" (and kept out of training by
    # curation's eval decontamination), beside the built-in and real suites.
    eval_data: list[str] = []
    n: int = Field(500, ge=12)                  # synth training records before curation (when `data` is empty)
    # Built-in held-out eval records (content held out of training): 24 a task, enough for a paired interval
    # to decide (issue 28); 4 a task left every verdict undecided.
    eval_n: int = Field(288, ge=12)
    # The built-in eval set's draw; None: seed + 1. `iterate`'s seed twin sets v0.1's, so that both answer
    # the very same eval records and their difference is training noise alone.
    eval_seed: Seed | None = None
    # Conversations of the built-in multi-turn suite (3 turns, 2 task switches each, held-out content):
    # scored base and tuned as the suite "multiturn"; diagnosis reads crosstalk per turn from it. 0: off.
    # 12 (36 scored turns) keeps the demo's two evals within its 25 minutes beside 288 + 192 single turns.
    multiturn_n: int = Field(12, ge=0)
    langs: list[str] = ["zh", "en"]
    real: bool = True                           # mix the shipped real train slices in, score the real eval slices
    # Train records taken from each shipped real set. The demo is sized for ~20 minutes on 2 CPU cores: its
    # 79,758 training tokens (measured: README, `run_full_pipeline.sh`; CMRC passages are ~900 tokens each)
    # take most of it.
    real_per_set: int | None = Field(30, ge=1)
    # Share of the training set drawn from the shipped general instruction slices (alpaca en/zh) on top of
    # what real_per_set takes: replay against forgetting; diagnosis raises it when forgetting fires.
    replay: float = Field(0.0, ge=0, lt=0.5)
    curate: RunCurateConfig = Field(default_factory=RunCurateConfig)
    train: RunTrainConfig = Field(default_factory=RunTrainConfig)
    eval: RunEvalConfig = Field(default_factory=RunEvalConfig)   # its own defaults: see RunEvalConfig
    # Built-in training records per task scored again by the tuned model (eval_seen): the gap between
    # seen and held-out content is the overfitting diagnosis's memorisation check. 0: skip the stage.
    seen_per_task: int = Field(5, ge=0)
    score_base: bool = True                     # also score the untuned model, side by side
    diagnose: bool = True                       # the five problems and report.html after the evals
    # What that diagnosis decides on (its thresholds, the levers' sizes): part of the diagnose stage's key,
    # so changing a threshold redoes the diagnosis and nothing before it.
    diagnosis: DiagnoseConfig = Field(default_factory=DiagnoseConfig)
    # Run train, the evals and diagnose each in a Python process of its own (`python -m mtsft.run OUT STAGE`),
    # so what one stage held goes back to the OS before the next loads its model, and each stage's peak is its
    # own (issue 29.1: in one process, whatever training left held counted into every eval after it). A child
    # costs a few seconds of imports. The tiny profile turns it off (tests, notebooks that want the `log`
    # callback).
    stage_processes: bool = True
    force: list[str] = []                       # stages to redo even when their marker matches
    overwrite: bool = False                     # redo every stage (an earlier run's folder is cleared)


# ---- stages with completion markers -------------------------------------------------------------------

def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def stage_key(config: dict, inputs: list[Path]) -> dict:
    blob = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)
    return {"config": hashlib.sha256(blob.encode()).hexdigest()[:16],
            "inputs": {str(p): file_digest(p) for p in inputs}}


def run_stage(out: Path, name: str, config: dict, inputs: list[Path], fn: Callable[[Path], dict], *,
              force: bool, log) -> dict:
    """Reuse `out/name` when its marker matches (config and input hashes), else clear it and run `fn(dir)`;
    the marker, holding `fn`'s result, is written last, so a stage killed midway is never reused.
    `fn` may run the work in a child process (`in_child`)."""
    folder = out / name
    key = stage_key(config, inputs)
    done = None if force else read_stage(folder)
    if done is not None:
        if done.get("key") == key:
            log(f"[dim]{name}: reusing {folder} (same config and inputs)[/]")
            return done["result"]
    claim_folder(folder, overwrite=True)  # deletes only what mtsft wrote there (its OWNER list)
    log(f"[bold cyan]== {name}[/]")
    start = time.perf_counter()
    result = {**fn(folder), "seconds": round(time.perf_counter() - start, 1)}
    release_freed_memory()   # each stage's model and buffers go back to the OS before the next one loads its own
    write_stage(folder, key, result)
    return result


# ---- the stages -----------------------------------------------------------------------------------------

def make_data(cfg: RunConfig, folder: Path) -> dict:
    """train.jsonl (your files, or synth + real train slices) and the held-out eval files."""
    from mtsft.records import read_records, write_jsonl
    from mtsft.tasks.synth import synth_records

    train = [r for path in cfg.data for r in read_records(path)]
    if not cfg.data or cfg.with_synth:
        train += synth_records(cfg.n, seed=cfg.seed, langs=tuple(cfg.langs))
    real_train = []
    if cfg.real:
        from mtsft.datasets import real_eval_records, real_train_records

        real_train = real_train_records(per_set=cfg.real_per_set)
        write_jsonl(folder / "real_eval.jsonl", real_eval_records(per_set=cfg.eval.real_per_set))
    replay = replay_records(cfg, len(train) + len(real_train))
    write_jsonl(folder / "train.jsonl", train + real_train + replay)
    if cfg.eval_data:
        write_jsonl(folder / YOURS, [r for path in cfg.eval_data for r in read_records(path)])
    if cfg.multiturn_n:
        from mtsft.tasks.multiturn import multiturn_records

        write_jsonl(folder / MULTITURN, multiturn_records(cfg.multiturn_n, seed=eval_draw_seed(cfg),
                                                          langs=tuple(cfg.langs)))
    write_jsonl(folder / "eval.jsonl", synth_records(cfg.eval_n, seed=eval_draw_seed(cfg), langs=tuple(cfg.langs),
                                                     clean=True, eval_split=True))
    return {"train": len(train) + len(real_train) + len(replay), "real_train": len(real_train), "replay": len(replay)}


def eval_draw_seed(cfg: RunConfig) -> int:
    """The seed of the built-in eval set's draw (training synth uses `seed` itself)."""
    return cfg.seed + 1 if cfg.eval_seed is None else cfg.eval_seed


GENERAL_SETS = ("alpaca_en_demo", "alpaca_zh_demo")
OPTIONAL_DATA_KEYS = ("with_synth", "eval_data", "eval_seed", "multiturn_n")
YOURS = "yours_eval.jsonl"   # the data stage's copy of `eval_data`, scored as the suite "yours"
MULTITURN = "multiturn_eval.jsonl"   # the built-in multi-turn suite, scored as the suite "multiturn"


def eval_files(cfg: RunConfig, data: Path) -> list[Path]:
    """The held-out files the data stage writes: never trained on, scored base and tuned."""
    return [data / "eval.jsonl", *([data / "real_eval.jsonl"] if cfg.real else []),
            *([data / YOURS] if cfg.eval_data else []), *([data / MULTITURN] if cfg.multiturn_n else [])]


def replay_records(cfg: RunConfig, others: int) -> list[dict]:
    """General instruction records making up `cfg.replay` of the training set, languages interleaved,
    skipping the ones the real slices already put in (the first real_per_set of each set)."""
    from mtsft.datasets import real_train_records

    want = round(cfg.replay * others / (1 - cfg.replay))
    if want <= 0:
        return []
    skip = (cfg.real_per_set or 10**9) if cfg.real else 0
    pools = [real_train_records([name])[skip:] for name in GENERAL_SETS]
    mixed = [r for group in zip(*pools) for r in group]
    return [{**r, "meta": {**(r.get("meta") or {}), "replay": True}} for r in mixed[:want]]


def eval_suites(cfg: RunConfig, data: Path) -> dict[str, list[dict]]:
    from mtsft.records import read_records

    suites = {"builtin": read_records(data / "eval.jsonl")}
    if cfg.real and (data / "real_eval.jsonl").exists():
        suites["real"] = read_records(data / "real_eval.jsonl")
    if cfg.eval_data:
        suites["yours"] = read_records(data / YOURS)
    if cfg.multiturn_n:
        suites["multiturn"] = read_records(data / MULTITURN, turns=True)
    return {name: [{**r, "meta": {**(r.get("meta") or {}), "suite": name}} for r in records]
            for name, records in suites.items()}


def run_eval(cfg: RunConfig, data: Path, folder: Path, adapter: str | None, log) -> dict:
    from mtsft.eval.evaluate import evaluate_records, load_generator

    eval_cfg = cfg.eval.model_copy(update={"model": cfg.model, "adapter": adapter})
    model, tokenizer = load_generator(eval_cfg, log=log)
    results = {}
    for name, records in eval_suites(cfg, data).items():
        result = evaluate_records(records, eval_cfg, folder / name, model=model, tokenizer=tokenizer, log=log)
        results[name] = {"overall": result["overall"]["score"], "records": len(records)}
    return results


# ---- the base model's eval, scored once ---------------------------------------------------------------
# The untuned model's answers depend only on the model, the eval records and the eval config, so a rerun,
# `iterate`'s later versions and every point of a sweep share one scoring of it, kept under $MTSFT_CACHE.
# The key also holds the scoring code (verifiers, prompt rendering), so a changed verifier never serves
# stale scores. `force=[eval_base]` scores it again and refreshes the cache.

SCORING_CODE = ("eval", "tasks", "tags.py", "text.py", "sandbox.py", "records.py")   # under src/mtsft


def base_eval_cache() -> Path:
    from mtsft.model import cache_dir

    return cache_dir() / "eval_base"


def model_identity(spec: str) -> str:
    """What fixes a model's answers: its folder's files (names, sizes, times) when it is one here (the
    built-in and tiny models are cached folders), else its name (a hub id)."""
    from mtsft.model import resolve_model_path

    path = Path(resolve_model_path(spec, log=lambda *_: None))
    if not path.is_dir():
        return spec
    h = hashlib.sha256(spec.encode())
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(path)}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return f"{spec}@{h.hexdigest()[:16]}"


def _scoring_code_digest() -> str:
    import mtsft

    root = Path(mtsft.__file__).parent
    h = hashlib.sha256()
    for name in SCORING_CODE:
        for f in [root / name] if name.endswith(".py") else sorted((root / name).rglob("*.py")):
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def base_eval_key(cfg: RunConfig, held_out: list[Path]) -> str:
    """(model identity, the eval records, the eval config, the scoring code) as one hash."""
    blob = {"model": model_identity(cfg.model), "records": {p.name: file_digest(p) for p in held_out},
            "eval": cfg.eval.model_dump(mode="json"), "code": _scoring_code_digest()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:20]


def run_eval_base(cfg: RunConfig, data: Path, folder: Path, held_out: list[Path], log, *, refresh: bool) -> dict:
    """The base model's eval into `folder`: copied from the cache when it holds this key, else scored and
    cached."""
    from mtsft import runfiles
    from mtsft.outputs import claim_folder

    cached = base_eval_cache() / f"{base_eval_key(cfg, held_out)}.json"
    entry = None
    if not refresh and cached.is_file():
        try:
            entry = json.loads(cached.read_text(encoding="utf-8"))
        except ValueError:   # a damaged cache file: score again and replace it
            entry = None
    if entry is not None:
        log(f"[dim]eval_base: the base model's answers to these records were scored before: reusing {cached}[/]")
        for name, suite in entry["suites"].items():
            runfiles.write_predictions(claim_folder(folder / name), suite["rows"])
            runfiles.write_scores(folder / name, suite["scores"])
        return entry["result"]
    result = run_eval(cfg, data, folder, None, log)
    suites = {name: {"rows": runfiles.read_predictions(folder / name), "scores": runfiles.read_scores(folder / name)}
              for name in result}
    cached.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(cached, {"model": cfg.model, "suites": suites, "result": result}, indent=None)
    return result


def seen_records(kept: Path, per_task: int, seed: int) -> list[dict]:
    """`per_task` curated training records of each built-in task (synth content the model trained on),
    drawn with `seed`, as the `seen` suite."""
    import random

    from mtsft.records import read_records

    by_task: dict[str, list[dict]] = {}
    for r in read_records(kept):
        if str(r.get("source") or "").startswith("mtsft-synth") and r.get("reference") is not None:
            by_task.setdefault(r["task"], []).append(r)
    rng = random.Random(seed)
    picked = [r for task in sorted(by_task) for r in rng.sample(by_task[task], min(per_task, len(by_task[task])))]
    return [{**r, "meta": {**(r.get("meta") or {}), "suite": "seen"}} for r in picked]


def run_eval_seen(cfg: RunConfig, kept: Path, folder: Path, adapter: str, log) -> dict:
    from mtsft.eval.evaluate import evaluate_records

    records = seen_records(kept, cfg.seen_per_task, cfg.seed)
    eval_cfg = cfg.eval.model_copy(update={"model": cfg.model, "adapter": adapter})
    result = evaluate_records(records, eval_cfg, folder / "seen", log=log)
    return {"seen": {"overall": result["overall"]["score"], "records": len(records)}}


# ---- the model stages, each a function of (config, run folder, stage folder, log) -------------------------
# Module-level, so that a child process can run one by name with the run's config (`stage_processes`).

def run_folders(out: Path) -> tuple[Path, Path, Path]:
    """The data, curate and train folders of a run."""
    return out / "data", out / "curate", out / "train"


def run_train_config(cfg: RunConfig, out: Path) -> TrainConfig:
    """`cfg.train` with what the run sets itself: its model and seed, the curated data, OUT/train."""
    _, curated, trained = run_folders(out)
    return cfg.train.model_copy(update={"data": str(curated / "kept.jsonl"), "out": str(trained),
                                        "model": cfg.model, "seed": cfg.seed})


def stage_train(cfg: RunConfig, out: Path, folder: Path, log) -> dict:
    from mtsft.train.loop import train

    info = train(run_train_config(cfg, out), log=log)
    return {"status": info["status"], "final_loss": info["metrics"].get("final_loss")}


def stage_eval_base(cfg: RunConfig, out: Path, folder: Path, log) -> dict:
    data = run_folders(out)[0]
    return run_eval_base(cfg, data, folder, eval_files(cfg, data), log, refresh="eval_base" in cfg.force)


def stage_eval_tuned(cfg: RunConfig, out: Path, folder: Path, log) -> dict:
    data, _, trained = run_folders(out)
    return run_eval(cfg, data, folder, str(trained), log)


def stage_eval_seen(cfg: RunConfig, out: Path, folder: Path, log) -> dict:
    _, curated, trained = run_folders(out)
    return run_eval_seen(cfg, curated / "kept.jsonl", folder, str(trained), log)


def stage_diagnose(cfg: RunConfig, out: Path, folder: Path, log) -> dict:
    return run_diagnose(cfg, out, folder, log)


MODEL_STAGES: dict[str, Callable[[RunConfig, Path, Path, Callable], dict]] = {
    "train": stage_train, "eval_base": stage_eval_base, "eval_tuned": stage_eval_tuned,
    "eval_seen": stage_eval_seen, "diagnose": stage_diagnose}
# Exceptions a stage's child reports that keep their type in the parent (the CLI's one-line errors)
CHILD_ERRORS = {e.__name__: e for e in (ValueError, MemoryError, FileNotFoundError, PermissionError, OSError,
                                         RuntimeError, KeyError, TypeError)}


def in_child(cfg: RunConfig, out: Path, name: str, folder: Path) -> dict:
    """Run model stage `name` in a child Python process, handed `cfg` through a temporary file that brings
    its result back. Its output goes to this process's terminal; an exception in it is raised here with its
    type and message."""
    import os
    import subprocess
    import sys
    import tempfile

    import mtsft

    handle, result_path = tempfile.mkstemp(prefix=f"mtsft-{name}-", suffix=".json")   # config in, result out
    with os.fdopen(handle, "w", encoding="utf-8") as f:
        json.dump({"config": cfg.model_dump(mode="json", by_alias=True)}, f)
    env = dict(os.environ)
    package_root = str(Path(mtsft.__file__).resolve().parents[1])   # the same mtsft, however it was found here
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    try:
        code = subprocess.run([sys.executable, "-m", "mtsft.run", str(out), name, result_path], env=env).returncode
        try:
            reply = json.loads(Path(result_path).read_text(encoding="utf-8") or "null")
        except ValueError:
            reply = None
    finally:
        Path(result_path).unlink(missing_ok=True)
    if code == 0 and reply and "result" in reply:
        return reply["result"]
    if reply and "error" in reply:
        kind = next((CHILD_ERRORS[k] for k in reply["error"] if k in CHILD_ERRORS), RuntimeError)
        raise kind(reply["message"])
    raise RuntimeError(f"stage {name}: its process ended with exit code {code} and no result")


def child_main(argv: list[str]) -> int:
    """`python -m mtsft.run OUT STAGE FILE`: one model stage of the run in OUT, with the config FILE holds;
    its result (or its error) replaces it, as JSON."""
    out, name, result_path = Path(argv[0]), argv[1], Path(argv[2])
    try:
        cfg = RunConfig.model_validate(json.loads(result_path.read_text(encoding="utf-8"))["config"])
        result = MODEL_STAGES[name](cfg, out, out / name, print_log)
    except Exception as e:  # reported to the parent, which raises it with its type
        kinds = [k.__name__ for k in type(e).__mro__]   # the parent raises the first built-in one it knows
        result_path.write_text(json.dumps({"error": kinds, "message": str(e)}), encoding="utf-8")
        raise
    result_path.write_text(json.dumps({"result": result}, default=str), encoding="utf-8")
    return 0


def run_pipeline(cfg: RunConfig, *, log=print_log) -> dict:
    """Every stage (reusing finished ones), then `summary.json`; returns the summary."""
    from mtsft.data.curate import curate_files

    out = Path(cfg.out)
    unknown = sorted(set(cfg.force) - set(STAGES))
    if unknown:
        raise ValueError(f"--force {', '.join(unknown)}: not a stage (stages: {', '.join(STAGES)})")
    # The output rule before any work: a folder holding files mtsft did not write, an input, a FIFO are
    # refused; --overwrite deletes only what mtsft's list in OUT names.
    claim_folder(out, [*cfg.data, *cfg.eval_data], overwrite=cfg.overwrite)
    dump = lambda c: c.model_dump(mode="json", by_alias=True)  # noqa: E731
    write_run_config(cfg, out)
    data, curated, trained = run_folders(out)
    stage = lambda name, config, inputs, fn: run_stage(  # noqa: E731
        out, name, config, inputs, fn, force=name in cfg.force, log=log)

    def model_stage(name: str) -> Callable[[Path], dict]:
        if cfg.stage_processes:
            return lambda folder: in_child(cfg, out, name, folder)
        return lambda folder: MODEL_STAGES[name](cfg, out, folder, log)

    # with_synth, eval_data and eval_seed join the key only when set, so runs made before they existed are
    # still reused
    data_key = {k: v for k, v in dump(cfg).items() if k in (
        "data", "n", "eval_n", "langs", "real", "real_per_set", "replay", "seed") or
        (k in OPTIONAL_DATA_KEYS and v not in (None, False, []))}
    results = {"data": stage("data", data_key | {"eval_real": cfg.eval.real_per_set},
                             [Path(p) for p in [*cfg.data, *cfg.eval_data]], lambda d: make_data(cfg, d))}
    held_out = eval_files(cfg, data)

    def do_curate(folder: Path) -> dict:
        res = curate_files([str(data / "train.jsonl")], cfg.curate, folder, eval_files=[str(p) for p in held_out],
                           log=log)
        return {"inputs": res.inputs, "kept": len(res.kept), "ok": res.ok}

    results["curate"] = stage("curate", dump(cfg.curate), [data / "train.jsonl", *held_out], do_curate)
    results["train"] = stage("train", dump(run_train_config(cfg, out)), [curated / "kept.jsonl"], model_stage("train"))
    eval_config = dump(cfg.eval) | {"model": cfg.model}
    if cfg.score_base:
        results["eval_base"] = stage("eval_base", eval_config, held_out, model_stage("eval_base"))
    results["eval_tuned"] = stage("eval_tuned", eval_config, [*held_out, stage_path(trained)],
                                  model_stage("eval_tuned"))
    if cfg.seen_per_task:
        results["eval_seen"] = stage("eval_seen", eval_config | {"seen_per_task": cfg.seen_per_task},
                                     [curated / "kept.jsonl", stage_path(trained)], model_stage("eval_seen"))
    if cfg.diagnose and cfg.score_base:
        evals = [stage_path(out / "eval_base"), stage_path(out / "eval_tuned"),
                 *([stage_path(out / "eval_seen")] if cfg.seen_per_task else [])]
        results["diagnose"] = stage("diagnose", dump(cfg.diagnosis), evals, model_stage("diagnose"))
    summary = build_summary(out, results)
    write_json_atomic(out / "summary.json", summary)
    if "mlflow" in cfg.train.report_to:
        log_to_mlflow(out, summary)
    return summary


def log_to_mlflow(out: Path, summary: dict) -> str:
    """One MLflow run beside the trainer's, in the same store (OUT/train/mlruns unless MLFLOW_TRACKING_URI is
    set): every per-task score (base and tuned) and change as metrics, each problem's verdict as a tag.
    Returns its run id."""
    from mlflow.entities import Metric, RunTag

    from mtsft.train.loop import mlflow_key, mlflow_tracking, start_mlflow_run

    now = int(time.time() * 1000)
    metrics = [Metric(mlflow_key(name, r["suite"], r["task"]), value, now, 0) for r in summary["rows"]
               for name, value in zip(summary["runs"], r["scores"]) if value is not None]
    metrics += [Metric(mlflow_key("change", r["suite"], r["task"]), r["delta"], now, 0) for r in summary["rows"]
                if r["delta"] is not None]
    verdicts = (summary.get("diagnosis") or {}).get("verdicts") or {}
    tags = [RunTag(mlflow_key(f"verdict.{problem}"), status) for problem, status in verdicts.items()]
    with mlflow_tracking(out / "train") as uri:
        client, run_id = start_mlflow_run(uri, f"{out.name} scores", {"run": str(out.resolve())})
        client.log_batch(run_id, tags=tags)
        for i in range(0, len(metrics), 1000):               # MLflow takes at most 1000 metrics a batch
            client.log_batch(run_id, metrics=metrics[i:i + 1000])
        client.set_terminated(run_id)
    return run_id


def write_run_config(cfg: RunConfig, out: Path) -> Path:
    """OUT/config.yaml: the run's whole config, so `mtsft diagnose --apply` and `iterate` change it field by field."""
    import yaml

    path = out / "config.yaml"
    data = cfg.model_dump(mode="json", by_alias=True)
    data["force"], data["overwrite"] = [], False   # one-off switches of this invocation, not of the run
    write_text_atomic(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def run_diagnose(cfg: RunConfig, out: Path, folder: Path, log) -> dict:
    """The five problems on this run, decided on `cfg.diagnosis`; the report in OUT/diagnose/."""
    from mtsft.diagnose.diagnose import diagnose_run
    from mtsft.diagnose.report import write_report

    diagnosis = diagnose_run(out, cfg=cfg.diagnosis, log=log)
    paths = write_report(diagnosis, folder)
    return {"fired": diagnosis.fired(), "report": str(paths["html"]),
            "verdicts": {f.problem: f.status for f in diagnosis.findings}}


def headline_checks(report: Path) -> list[dict]:
    """Per problem its verdict and the check that decided it, as report.html's summary shows them, for the
    summary table; crosstalk and format (decided on the rise over base) also their absolute rates, base and
    tuned, where the check was decided and over every judged output. `report`: the diagnosis's folder."""
    from mtsft.diagnose.problems import STATUS_RANK, overall_rate

    diagnosis = read_diagnosis(report)
    if diagnosis is None:
        return []
    rows = []
    for finding in diagnosis["findings"]:
        check = max(finding["checks"], key=lambda c: STATUS_RANK[c["status"]]) if finding["checks"] else {}
        table = finding.get("table") or []
        where = next((r for r in table if r.get("task") == check.get("task") and "rate" in r), {})
        rows.append({"problem": finding["problem"], "status": finding["status"], "check": check.get("name"),
                     "value": check.get("value"), "threshold": check.get("threshold"), "where": check.get("task"),
                     "base_rate": where.get("base_rate"), "tuned_rate": where.get("rate"),
                     "overall": overall_rate(table), "base_overall": overall_rate(table, "base")})
    return rows



def build_summary(out: Path, results: dict) -> dict:
    """Per suite and task: metric, base, tuned, change, and whether the intervals separate them."""
    from mtsft.diagnose.compare import compare_runs

    runs = [out / "eval_base", out / "eval_tuned"] if "eval_base" in results else [out / "eval_tuned"]
    rows = compare_runs(runs)
    return {"out": str(out), "inputs": results["curate"]["inputs"], "kept": results["curate"]["kept"],
            "train": results["train"], "runs": [r.name.removeprefix("eval_") for r in runs], "rows": rows,
            "diagnosis": results.get("diagnose"), "problems": headline_checks(out / "diagnose"),
            "seconds": {name: r.get("seconds") for name, r in results.items()}}


if __name__ == "__main__":   # a model stage's child process (`in_child`), through the module's own import
    import sys

    from mtsft.run import child_main as _child_main

    sys.exit(_child_main(sys.argv[1:]))
