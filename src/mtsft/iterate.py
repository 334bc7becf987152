"""`mtsft iterate`: run the loop, diagnose it, pull the levers the diagnosis names, run again.

    v0.1 (seed s and seed s+1: the noise) -> diagnose -> levers -> v0.2 -> diagnose -> ... until every
    verdict passes or the rounds are spent

Every version is a full `mtsft run` folder under OUT (`v0.1`, `v0.1-seed1`, `v0.2`, ...), so each number
in `MULTITASK_ITERATION_LOG.md` can be traced to its predictions. Every version, the seed twin included,
answers the very same eval records (the twin keeps v0.1's eval draw), and the base model is scored once
for all of them (`mtsft.run`'s base-eval cache). A lever is credited only where the problem it targets
moved by more than the noise, which has two independent sources added in quadrature:

    noise = sqrt(seed_diff^2 + half_width^2)

seed_diff, |v0.1 - its seed twin| on the problem's headline number, is training noise alone (same records);
half_width, half the 95% interval of v0.1's headline number (paired over prompts where it compares base
and tuned), is the sampling error of the eval records. Either alone under-counts: two seeds often agree
exactly on 24 outputs, and the interval says nothing of how much a retrained model moves.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from mtsft.config import StrictConfig
from mtsft.logs import print_log
from mtsft.outputs import atomic_writer, claim_folder, write_text_atomic
from mtsft.run import RunConfig

PROBLEMS = ("uneven", "crosstalk", "format", "forgetting", "overfit")


class IterateConfig(StrictConfig):
    run: RunConfig = Field(default_factory=RunConfig)   # v0.1's config (`--profile demo`, `--set train.lr=...`)
    rounds: int = Field(3, ge=1, le=10)                 # versions after v0.1 at most
    out: str = "runs/iterate"
    noise_seed_offset: int = Field(1, ge=1)             # v0.1 is also trained with seed + this


@dataclass
class Version:
    name: str
    folder: Path
    summary: dict
    diagnosis: dict
    changes: list[dict] = field(default_factory=list)   # levers applied to make this version
    why: list[str] = field(default_factory=list)        # the verdicts that asked for them

    def _finding(self, problem: str) -> dict:
        return next((f for f in self.diagnosis["findings"] if f["problem"] == problem), {})

    def _headline(self, problem: str) -> dict:
        """A problem's first check: the number its levers aim at, the same check in every version."""
        checks = self._finding(problem).get("checks")
        return checks[0] if checks else {}

    def all_outputs(self, problem: str, side: str = "tuned") -> float | None:
        """Crosstalk's or format's absolute rate over every judged output of `side` (tuned or base); the
        headline is the worst task's rise over base."""
        from mtsft.diagnose.problems import overall_rate

        return overall_rate(self._finding(problem).get("table") or [], side)

    def rates(self, problem: str) -> tuple[float | None, float | None]:
        """Crosstalk's or format's absolute rates (base, tuned) on the headline's task, beside its rise."""
        task = self._headline(problem).get("task")
        row = next((r for r in self._finding(problem).get("table") or [] if r.get("task") == task and "rate" in r), {})
        return row.get("base_rate"), row.get("rate")

    def value(self, problem: str) -> float | None:
        """The headline number of a problem: its first check's value."""
        return self._headline(problem).get("value")

    def half_width(self, problem: str) -> float | None:
        """Half the width of the headline number's 95% interval: its sampling error on this eval set."""
        ci = self._headline(problem).get("ci")
        return (ci[1] - ci[0]) / 2 if ci and None not in ci else None

    def status(self, problem: str) -> str:
        return self._finding(problem).get("status", "n/a")

    def scores(self) -> dict[tuple[str, str], tuple[float | None, float | None]]:
        """(suite, task) -> (base, tuned)."""
        out = {}
        for row in self.summary["rows"]:
            scores = row["scores"]
            out[(row["suite"], row["task"])] = (scores[0] if len(scores) > 1 else None, scores[-1])
        return out


def _pipeline_child(cfg_json: str) -> None:
    from mtsft.run import run_pipeline

    run_pipeline(RunConfig.model_validate_json(cfg_json), log=print_log)  # markup stripped in a plain log


def _run_in_child(cfg: RunConfig) -> dict:
    """`run_pipeline` in a fresh spawned process, so no version's memory carries into the next: in one
    process the second version of the demo loop already held 16 GB (models, eval batches and allocator
    caches of the first) and trained 15x slower."""
    import multiprocessing as mp

    child = mp.get_context("spawn").Process(target=_pipeline_child, args=(cfg.model_dump_json(by_alias=True),))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"the run in {cfg.out} failed (exit code {child.exitcode}); its output is above")
    return json.loads((Path(cfg.out) / "summary.json").read_text(encoding="utf-8"))


def run_version(name: str, run_cfg: RunConfig, out: Path, log, isolate: bool = True):
    """(the version's record, its Diagnosis object with the levers to pull next). `isolate` runs the
    version's pipeline in its own process (the default)."""
    from mtsft.diagnose.diagnose import diagnose_run
    from mtsft.diagnose.report import write_report
    from mtsft.run import run_pipeline

    folder = out / name
    # The run's own diagnosis stage is skipped: iterate needs the Diagnosis object (its levers) itself.
    version_cfg = run_cfg.model_copy(update={"out": str(folder), "diagnose": False})
    if isolate:
        summary = _run_in_child(version_cfg)
    else:
        summary = run_pipeline(version_cfg, log=log)
    diagnosis = diagnose_run(folder, cfg=run_cfg.diagnosis, log=log)
    write_report(diagnosis, folder / "diagnose")   # report.html and diagnosis.json, as the run's own stage
    return Version(name, folder, summary, json.loads(json.dumps(diagnosis.to_dict(), default=str))), diagnosis


def iterate(cfg: IterateConfig, *, log=print_log) -> list[Version]:
    """Run the versions, writing the iteration log after each; returns the versions (v0.1 first, its seed
    twin apart)."""
    from mtsft.diagnose.levers import apply_levers

    out = claim_folder(cfg.out, [*cfg.run.data, *cfg.run.eval_data])  # the output rule, before any run
    current = cfg.run
    first, diagnosis = run_version("v0.1", current, out, log)
    twin, _ = run_version("v0.1-seed1", twin_config(current, cfg.noise_seed_offset), out, log)
    versions = [first]
    _write(versions, twin, out)
    for k in range(2, cfg.rounds + 2):
        if not diagnosis.fired() or not any(lv.changes for lv in diagnosis.levers):
            log(f"[green]stopping after {versions[-1].name}: " + ("every verdict passes" if not diagnosis.fired()
                                                               else "no lever the config can express") + "[/]")
            break
        name = f"v0.{k}"
        current = apply_levers(current, diagnosis.levers, out=str(out / name))   # a validated RunConfig
        version, diagnosis = run_version(name, current, out, log)
        versions.append(version)
        _write(versions, twin, out)
    return versions


def twin_config(run_cfg: RunConfig, offset: int) -> RunConfig:
    """v0.1 trained with another seed, answering the very same eval records (v0.1's eval draw)."""
    from mtsft.run import eval_draw_seed

    return run_cfg.model_copy(update={"seed": run_cfg.seed + offset, "eval_seed": eval_draw_seed(run_cfg)})


def _write(versions: list[Version], twin: Version, out: Path) -> None:
    """The log as it stands, rewritten after every version: a loop stopped early keeps what it measured."""
    _attach_levers(versions)
    write_log(versions, twin, out)


def _attach_levers(versions: list[Version]) -> None:
    """Each version after the first records the levers its predecessor's diagnosis proposed (and why)."""
    for prev, version in zip(versions, versions[1:]):
        levers = prev.diagnosis.get("levers", [])
        version.changes = [{"problem": lv["problem"], "lever": lv["name"],
                            "changes": [f"{c['path']}: {c['old']} -> {c['new']}" for c in lv["changes"]]}
                           for lv in levers if lv.get("changes")]
        version.why = [f"{lv['problem']}: {lv['why']}" for lv in levers if lv.get("changes")]


def seed_noise(first: Version, twin: Version) -> dict[str, float]:
    """Per problem, |seed s - seed s+1| of its headline number on v0.1."""
    out = {}
    for p in PROBLEMS:
        a, b = first.value(p), twin.value(p)
        if a is not None and b is not None:
            out[p] = abs(a - b)
    return out


def noise(first: Version, twin: Version) -> dict[str, float]:
    """Per problem, what a lever must beat: the seed difference on v0.1 and the sampling error of v0.1's
    number (half its 95% interval, paired over prompts) added in quadrature (see the module docstring)."""
    sampling = {p: first.half_width(p) for p in PROBLEMS}
    return {p: math.hypot(n, sampling[p] or 0.0) for p, n in seed_noise(first, twin).items()}


def credits(versions: list[Version], noise_by_problem: dict[str, float]) -> list[dict]:
    """For each lever applied, whether its own problem's number moved beyond the noise (and which way)."""
    rows = []
    for prev, version in zip(versions, versions[1:]):
        for change in version.changes:
            p = change["problem"]
            before, after = prev.value(p), version.value(p)
            if before is None or after is None:
                verdict, delta = "not measured", None
            else:
                delta = after - before
                eps = noise_by_problem.get(p, 0.0)
                verdict = "within noise" if abs(delta) <= eps else ("helped" if delta < 0 else "hurt")
            rows.append({"version": version.name, "problem": p, "lever": change["lever"], "before": before,
                         "after": after, "delta": delta, "noise": noise_by_problem.get(p), "verdict": verdict})
    return rows


def _fmt(x) -> str:
    return "" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def _arrow(base, tuned) -> str:
    """Absolute rates, base -> tuned ('' where the problem has none)."""
    return "" if tuned is None else f"{_fmt(base) or '–'} -> {_fmt(tuned)}"


def write_log(versions: list[Version], twin: Version, out: Path) -> Path:
    """MULTITASK_ITERATION_LOG.md and iterations.png: every number from the runs in `out`."""
    noise_by_problem = noise(versions[0], twin)
    lines = ["# Multi-task iteration log", "",
             f"Written by `mtsft iterate` from the runs in `{out}`. Each version is a full `mtsft run` folder; "
             "v0.1 was trained twice (seeds differ, eval records the same); the difference between the two and "
             "the sampling error of v0.1's number, added in quadrature, is the noise a lever must beat to be "
             "credited. Crosstalk and format are decided on the rise over base (tuned minus base on the same "
             "prompts); their absolute rates stand beside it.", ""]
    for v in versions:
        lines += [f"## {v.name}", ""]
        if v.changes:
            lines += ["Changes (from the previous version's diagnosis):", ""]
            lines += [f"- **{c['lever']}** ({c['problem']}): " + "; ".join(c["changes"]) for c in v.changes]
            lines += ["", "Why: " + " / ".join(v.why), ""]
        else:
            lines += ["The starting configuration.", ""]
        lines += ["| suite | task | base | tuned |", "|---|---|---|---|"]
        lines += [f"| {s} | {t} | {_fmt(b)} | {_fmt(tu)} |" for (s, t), (b, tu) in sorted(v.scores().items())]
        lines += ["", "| problem | number | verdict | rates there, base -> tuned | all outputs, base -> tuned |",
                  "|---|---|---|---|---|"]
        lines += [f"| {p} | {_fmt(v.value(p))} | {v.status(p)} | {_arrow(*v.rates(p))} | "
                  f"{_arrow(v.all_outputs(p, 'base'), v.all_outputs(p))} |" for p in PROBLEMS]
        lines += [""]
    lines += ["## Across versions", "", "Each problem's headline number (crosstalk and format: the largest rise "
              "over base among tasks with enough outputs to decide), then crosstalk's and format's absolute rates "
              "over every judged output, base -> tuned (tasks with few outputs count there), then the tuned "
              "model's macro scores.", "",
              "| version | " + " | ".join(PROBLEMS) + " | crosstalk, all (base -> tuned) | format, all (base -> tuned) | builtin overall | real overall |",
              "|---" * (len(PROBLEMS) + 5) + "|"]
    for v in versions:
        s = v.scores()
        lines.append(f"| {v.name} | " + " | ".join(_fmt(v.value(p)) for p in PROBLEMS) +
                     f" | {_arrow(v.all_outputs('crosstalk', 'base'), v.all_outputs('crosstalk'))}"
                     f" | {_arrow(v.all_outputs('format', 'base'), v.all_outputs('format'))}"
                     f" | {_fmt(s.get(('builtin', 'overall'), (None, None))[1])}"
                     f" | {_fmt(s.get(('real', 'overall'), (None, None))[1])} |")
    sampling = {p: versions[0].half_width(p) for p in PROBLEMS}
    lines += ["", "Noise on v0.1, per problem: |seed 0 - seed 1| / sampling error (half the 95% interval) -> "
              "noise, sqrt(seed^2 + sampling^2); a lever is credited only when its own number moves by more: " +
              ", ".join(f"{p} {n:.3f} / {_fmt(sampling[p]) or 'n/a'} -> {noise_by_problem[p]:.3f}"
                        for p, n in seed_noise(versions[0], twin).items()),
              "",
              "| version | lever | problem | before | after | noise | credited |", "|---|---|---|---|---|---|---|"]
    for c in credits(versions, noise_by_problem):
        lines.append(f"| {c['version']} | {c['lever']} | {c['problem']} | {_fmt(c['before'])} | {_fmt(c['after'])} | "
                     f"{_fmt(c['noise'])} | {c['verdict']} |")
    lines += ["", "![problems across versions](iterations.png)", ""]
    _plot(versions, out / "iterations.png")
    path = out / "MULTITASK_ITERATION_LOG.md"
    write_text_atomic(path, "\n".join(lines))
    return path


def _plot(versions: list[Version], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = [v.name for v in versions]
    for p in PROBLEMS:
        values = [v.value(p) for v in versions]
        if any(x is not None for x in values):
            ax.plot(names, [x if x is not None else float("nan") for x in values], marker="o", label=p)
    overall = [v.scores().get(("builtin", "overall"), (None, None))[1] for v in versions]
    ax.plot(names, [x if x is not None else float("nan") for x in overall], marker="s", color="black",
            label="builtin score (tuned)")
    ax.set_xlabel("version")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    with atomic_writer(path) as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
