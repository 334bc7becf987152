"""`train --select best|last`: which of a stage's weights it ends with, chosen by per-task score.

Eval loss says how well a checkpoint predicts the reference tokens; whether its answers pass each task's
verifier is another question, and the two can disagree. Under `select: best` every checkpoint a stage saves
(and the stage's end weights) answers a small held-out selection set, scored with the eval code
(`eval.evaluate.generate_answers` / `score_answers`) at a short answer cap. The candidate with the best
macro score (the mean of the per-task scores) wins; ties go to the better worst task, then to the later
step. The stage's `final/` weights (and the run's `model/`) are the winner's; run.json's stage entry lists
every candidate's per-task scores beside its per-task eval loss, and the paired interval of the winner
against the stage's end.

The selection set: built-in synth records of the run's tasks, drawn from the held-out content
(`synth_records(..., eval_split=True)`) with their own seed (`selection.seed`); any prompt that the default
built-in eval draws also hold (`mtsft eval run`'s, and `mtsft run`'s at `seed + 1` of each size in
`selection.avoid_eval_n`) is dropped: the two draw from one held-out content pool, so only that keeps the
selection set off the prompts the run is later scored on. Tasks the built-in synth cannot draw are not scored (named in
the report); a run with none of them keeps its end weights.

Written by hand: HF's `metric_for_best_model` takes one number from `compute_metrics` over the eval
loss's forward passes, not greedy generations scored per task, and it cannot break ties by the worst task.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mtsft.train.config import TrainConfig


@dataclass
class Candidate:
    """One set of weights a stage could end with: a saved checkpoint, or the stage's end (checkpoint None)."""

    step: int
    checkpoint: str | None
    scores: dict[str, float]                                  # per task, on the selection set
    record_scores: list[float]                                # per record, in the set's order (paired intervals)
    eval_loss: dict[str, float] = field(default_factory=dict)  # per task, where the eval loss was measured

    @property
    def macro(self) -> float:
        return sum(self.scores.values()) / len(self.scores)

    @property
    def worst(self) -> float:
        return min(self.scores.values())

    def rank_key(self) -> tuple:
        """Best macro score, then the better worst task, then the later step."""
        return round(self.macro, 9), round(self.worst, 9), self.step

    def mean_eval_loss(self) -> float | None:
        return sum(self.eval_loss.values()) / len(self.eval_loss) if self.eval_loss else None

    def summary(self) -> dict:
        return {"step": self.step, "checkpoint": self.checkpoint, "macro": round(self.macro, 4),
                "worst": round(self.worst, 4), "scores": {t: round(s, 4) for t, s in sorted(self.scores.items())},
                "eval_loss": {t: round(v, 4) for t, v in sorted(self.eval_loss.items())},
                "mean_eval_loss": None if self.mean_eval_loss() is None else round(self.mean_eval_loss(), 4)}


def pick_best(candidates: list[Candidate]) -> Candidate:
    return max(candidates, key=Candidate.rank_key)


def loss_best(candidates: list[Candidate]) -> Candidate | None:
    with_loss = [c for c in candidates if c.mean_eval_loss() is not None]
    return min(with_loss, key=lambda c: (c.mean_eval_loss(), -c.step)) if with_loss else None


def candidate_count(steps: int, save_steps: int) -> int:
    """Checkpoints the Trainer saves in `steps`, plus the end when it falls between two saves."""
    return steps // save_steps + (1 if steps % save_steps else 0)


# ---- the selection set -------------------------------------------------------------------------------------

def _prompt_key(record: dict) -> tuple:
    return tuple(m["content"] for m in record["messages"] if m["role"] != "assistant")


@functools.lru_cache(maxsize=16)
def _eval_prompts(seed: int, n: int, langs: tuple[str, ...]) -> frozenset:
    """The prompts of a built-in eval draw (drawn once per process: every stage of a run asks again)."""
    from mtsft.tasks.synth import synth_records

    return frozenset(_prompt_key(r) for r in synth_records(n, seed=seed, langs=langs, clean=True, eval_split=True))


def selection_records(task_names: list[str], cfg: TrainConfig) -> list[dict]:
    """`cfg.selection.per_task` held-out records of each of `task_names` the built-in synth draws (its own
    seed; prompts of the default built-in eval draws dropped). Empty when it draws none of them."""
    from mtsft.eval.evaluate import EvalRunConfig
    from mtsft.tasks.synth import TASK_WEIGHTS, synth_records

    wanted = [t for t in task_names if t in TASK_WEIGHTS]
    if not wanted:
        return []
    per_task, defaults = cfg.selection.per_task, EvalRunConfig()
    langs = tuple(defaults.langs)
    eval_n = defaults.per_task * len(langs) * len(TASK_WEIGHTS)
    draws = [(defaults.seed, eval_n)] + [(cfg.seed + 1, n) for n in cfg.selection.avoid_eval_n]
    avoid = set().union(*(_eval_prompts(seed, n, langs) for seed, n in draws))
    # eval_split draws every built-in task equally; a task with few held-out prompts (chitchat) loses many to
    # the eval draws, so the draw grows until each task has its records (or 8x the need)
    for times in (2, 4, 8):
        drawn = synth_records(times * per_task * len(TASK_WEIGHTS), seed=cfg.selection.seed, langs=langs,
                              clean=True, eval_split=True)
        picked: dict[str, list[dict]] = {t: [] for t in wanted}
        for r in drawn:
            if r["task"] in picked and len(picked[r["task"]]) < per_task and _prompt_key(r) not in avoid:
                picked[r["task"]].append(r)
        if all(len(rs) == per_task for rs in picked.values()):
            break
    return [{**r, "meta": {**(r.get("meta") or {}), "suite": "selection"}} for t in wanted for r in picked[t]]


# ---- scoring candidates during training ---------------------------------------------------------------------

def _task_losses(metrics: dict) -> dict[str, float]:
    """{task: eval loss} from the Trainer's metrics (`eval_<task>_loss`, one eval set per task)."""
    return {k[len("eval_"):-len("_loss")]: float(v) for k, v in metrics.items()
            if k.startswith("eval_") and k.endswith("_loss") and k != "eval_loss"}


class CheckpointSelector:
    """Scores the stage's weights at every checkpoint save (a Trainer callback, made by `callback()`) and at
    the end (`finish`); keeps the best checkpoint out of the Trainer's rotation."""

    def __init__(self, trainer, records: list[dict], cfg: TrainConfig, out_dir: Path, *, is_main: bool, log=print):
        self.trainer, self.records, self.cfg, self.out_dir = trainer, records, cfg, Path(out_dir)
        self.is_main, self.log = is_main, log
        self.candidates: list[Candidate] = []
        self.losses: dict[int, dict[str, float]] = {}
        self.metrics: dict[int, dict] = {}   # the Trainer's eval metrics per step, as `evaluate` returned them

    def score(self, model, step: int, checkpoint: str | None) -> Candidate:
        """Answer the selection set with the current weights and score each task (the eval code)."""
        from mtsft.eval.evaluate import EvalRunConfig, generate_answers, score_answers

        eval_cfg = EvalRunConfig(max_new_tokens=self.cfg.selection.max_new_tokens, progress=False)
        was_training = model.training
        try:
            answers = generate_answers(model, self.trainer.processing_class, self.records, eval_cfg,
                                       self.cfg.task_tags)
        finally:
            model.train(was_training)
        rows, result = score_answers(self.records, answers, eval_cfg)
        if step not in self.losses and self.trainer.eval_dataset:
            self.metrics[step] = self.trainer.evaluate()
            self.losses[step] = _task_losses(self.metrics[step])
        cand = Candidate(step, checkpoint, {t: s["score"] for t, s in result["tasks"].items()},
                         [row["score"] for row in rows], self.losses.get(step, {}))
        if self.is_main:  # what each candidate answered (and what a resumed run reads back: `reload`)
            from mtsft import runfiles
            from mtsft.outputs import claim_folder

            out = claim_folder(self.out_dir / f"step-{step}")
            runfiles.write_predictions(out, rows)
            result["run"] = {"suites": ["selection"], "selection": {"step": step, "checkpoint": checkpoint,
                                                                    "eval_loss": cand.eval_loss}}
            runfiles.write_scores(out, result)
        self.candidates.append(cand)
        loss = cand.mean_eval_loss()
        self.log(f"select: step {step}: macro score {cand.macro:.3f} (worst task {cand.worst:.3f})"
                 + (f", eval loss {loss:.4f}" if loss is not None else ""))
        return cand

    def reload(self, upto_step: int) -> None:
        """On resume: the candidates scored before the run stopped (their answers are on disk), up to the
        checkpoint it resumes from and whose weights are still there, so a resumed stage chooses among the
        same candidates as one that ran through."""
        from mtsft import runfiles

        for folder in sorted(self.out_dir.glob("step-*")):
            scores, rows = runfiles.read_scores(folder), runfiles.read_predictions(folder)
            meta = ((scores or {}).get("run") or {}).get("selection") or {}
            ckpt = meta.get("checkpoint")
            if not rows or not ckpt or meta.get("step", upto_step + 1) > upto_step or not Path(ckpt).is_dir():
                continue
            self.losses[meta["step"]] = meta.get("eval_loss") or {}
            self.candidates.append(Candidate(meta["step"], ckpt, {t: s["score"] for t, s in scores["tasks"].items()},
                                             [row["score"] for row in rows], self.losses[meta["step"]]))

    def callback(self):
        from transformers import TrainerCallback

        selector = self

        class ScoreEachCheckpoint(TrainerCallback):
            def on_train_begin(self, args, state, control, **kw):
                if selector.candidates:  # resumed: the best so far stays out of the rotation, as it did
                    state.best_model_checkpoint = pick_best(selector.candidates).checkpoint

            def on_evaluate(self, args, state, control, metrics=None, **kw):
                selector.metrics[state.global_step] = dict(metrics or {})
                selector.losses[state.global_step] = _task_losses(metrics or {})

            def on_save(self, args, state, control, model=None, **kw):
                ckpt = str(Path(args.output_dir) / f"checkpoint-{state.global_step}")
                cand = selector.score(model, state.global_step, ckpt)
                if pick_best(selector.candidates) is cand:
                    state.best_model_checkpoint = ckpt  # the Trainer's rotation keeps it (save_total_limit)

        return ScoreEachCheckpoint()

    def finish(self, model, step: int, end_losses: dict) -> tuple[Candidate, dict]:
        """(the winner, the report for run.json): the end weights are scored unless a checkpoint at this
        very step already was."""
        self.losses.setdefault(step, _task_losses(end_losses))
        end = next((c for c in self.candidates if c.step == step), None) or self.score(model, step, None)
        best = pick_best(self.candidates)
        return best, self.report(best, end)

    def report(self, best: Candidate, end: Candidate) -> dict:
        from mtsft.eval.evaluate import bootstrap_ci

        # Paired on the same records: the interval of mean(best - end) is diagnose.stats.paired_mean_diff's
        # (the one percentile bootstrap, eval.bootstrap_ci); the set holds equally many records per task, so
        # the record mean is the macro mean.
        diffs = [b - e for b, e in zip(best.record_scores, end.record_scores)]
        ci = bootstrap_ci(diffs)
        by_loss = loss_best(self.candidates)
        scored = sorted(best.scores)
        report = {"mode": "best", "records": len(self.records), "tasks": scored,
                  "max_new_tokens": self.cfg.selection.max_new_tokens,
                  "chosen_step": best.step, "chosen_checkpoint": best.checkpoint,
                  "loss_best_step": by_loss.step if by_loss else None,
                  "vs_end": {"diff": round(best.macro - end.macro, 4),
                             "ci95": [round(x, 4) for x in ci] if ci else None},
                  "candidates": [c.summary() for c in sorted(self.candidates, key=lambda c: c.step)]}
        self.log(selection_table(report))
        return report


def selection_table(report: dict) -> str:
    """The train log's lines: every candidate's per-task scores beside its eval loss, and the choice."""
    tasks = report["tasks"]
    lines = ["select: step  macro  worst  eval_loss  " + "  ".join(tasks)]
    for c in report["candidates"]:
        loss = "-" if c["mean_eval_loss"] is None else f"{c['mean_eval_loss']:.4f}"
        mark = " *" if c["step"] == report["chosen_step"] else ""
        lines.append(f"select: {c['step']:>4}  {c['macro']:.3f}  {c['worst']:.3f}  {loss:>9}  "
                     + "  ".join(f"{c['scores'].get(t, 0):.2f}" for t in tasks) + mark)
    vs = report["vs_end"]
    ci = f" [{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}]" if vs["ci95"] else ""
    loss_note = (f"; the lowest eval loss is step {report['loss_best_step']}"
                 if report["loss_best_step"] not in (None, report["chosen_step"]) else "")
    lines.append(f"select: chose step {report['chosen_step']} (* : best macro score; {vs['diff']:+.3f}{ci} "
                 f"against the stage's end){loss_note}")
    return "\n".join(lines)


def make_selector(trainer, cfg: TrainConfig, *, steps: int, task_names: list[str], out_dir: Path,
                  is_main: bool, sharded: bool, log=print) -> CheckpointSelector | None:
    """A selector for this stage, or None when there is nothing to choose between (select: last, fewer than
    two candidates, sharded weights, no built-in task to score): then nothing extra is drawn or generated."""
    if cfg.select != "best" or candidate_count(steps, cfg.save_steps) < 2:
        return None
    if sharded:  # each rank holds a shard: generation would need the whole weights gathered every save
        log("select: best is not available with sharded weights (FSDP/ZeRO); keeping the stage's end")
        return None
    records = selection_records(task_names, cfg)
    if not records:
        log("select: no built-in task in the data to score checkpoints on; keeping the stage's end")
        return None
    unscored = sorted(set(task_names) - {r["task"] for r in records})
    if unscored and is_main:
        log(f"select: not scored (the built-in synth does not draw them): {', '.join(unscored)}")
    counts = Counter(r["task"] for r in records)
    short = sorted(t for t, n in counts.items() if n < cfg.selection.per_task)
    if short and is_main:  # a task whose held-out prompts ran out (or were all eval prompts)
        log("select: fewer than selection.per_task records for " + ", ".join(f"{t} ({counts[t]})" for t in short))
    quiet = lambda *_: None  # noqa: E731 - the other ranks score too (same answers) but do not log
    return CheckpointSelector(trainer, records, cfg, out_dir, is_main=is_main, log=log if is_main else quiet)
