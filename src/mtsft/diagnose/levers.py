"""Levers: each firing problem names the config change that fixes it, with concrete values, and
`apply_levers` writes them into the run config (curation and training together).

    uneven      mixture weights toward the lagging tasks (up to `levers.max_boost`x); a focus stage on them
                with replay when the spread is `levers.staged_above`x its threshold
    crosstalk   task tags in the system prompt; the crossed tasks up-weighted; hard negatives for each crossed
                pair the registry can draw (curate.balance.hard_negatives {"a>b": share}: prompts of a that
                read like b, answered as a); once tags are on, the staged schedule (train.stages: mixed ->
                grouped -> hard on the crossed tasks); on a label task, the label list (train.label_list)
    format      task tags; format checks in curation; the violating tasks up-weighted; format exemplars
                (curate.balance.format_exemplars {task: share}: records passing the task's format check);
                on a label task, the label list (train.label_list)
    forgetting  a lower learning rate; replay in staged runs; general-data replay (advice)
    overfit     the overfitting / frequent tasks down-weighted; when the run trains more than one epoch, a
                per-task epoch cap on the memorising tasks (train.max_task_epochs); fewer epochs when all
                tasks overfit

Registry records are drawn by `mtsft.mixture` (`hard_negative_records`, `format_exemplar_records`) from
each task's own generator; a lever names only pairs and tasks for which the registry draws at least one.

The levers read the run's config (`mtsft run -c`) with its `curate` and `train` sections typed by their own
classes. `changed_config` and `apply_levers` return the changed config validated by the run's own class,
RunConfig, which the caller hands in (the run layer sits above diagnosis): anything `mtsft run` would
refuse is refused here.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from mtsft.data.config import CurateConfig
from mtsft.diagnose.config import DiagnoseConfig
from mtsft.diagnose.inputs import RunInputs
from mtsft.diagnose.problems import EMPTY, NO_TASK, Finding
from mtsft.mixture import format_exemplar_records, hard_negative_records, is_label_task
from mtsft.train.config import TrainConfig

C = TypeVar("C", bound=BaseModel)


@dataclass
class Change:
    path: str            # dotted key in the run config, e.g. curate.balance.weights
    old: object
    new: object


@dataclass
class Lever:
    problem: str
    name: str
    why: str
    changes: list[Change] = field(default_factory=list)
    advice: str = ""     # what the config cannot express (yet): do it by hand

    def to_dict(self) -> dict:
        return asdict(self)


def base_config(inputs: RunInputs) -> dict:
    """The run config to change, as a dict: the run's own RunConfig when it saved one, else one rebuilt
    from the training run's config (curation as its manifest recorded, else at its defaults)."""
    if inputs.run_config is not None:
        return copy.deepcopy(inputs.run_config)
    data: dict = {}
    train = dict(inputs.train_config or {})
    try:   # only what differs from the defaults, so the new file reads as the run's choices plus the levers
        train = TrainConfig.model_validate(train).model_dump(mode="json", exclude_defaults=True)
    except ValueError:
        pass
    data["train"] = train
    if inputs.curate_config:
        try:   # the curation config the run used, when its manifest recorded one the class still accepts
            data["curate"] = CurateConfig.model_validate(inputs.curate_config).model_dump(
                mode="json", by_alias=True, exclude_defaults=True)
        except ValueError:
            pass
    if inputs.run_dir is not None:
        data["out"] = str(inputs.run_dir)
    return {k: v for k, v in data.items() if v != {}}


def _lift_set_by_run(data: dict, set_by_run: dict[str, tuple[str | None, str]]) -> dict:
    """`data` without the stage fields the run sets itself (`RunConfig.SET_BY_RUN`): a training run's model
    and seed become the run's (unless the run config names its own), its data and out folders go."""
    for path, (top, _) in set_by_run.items():
        section, key = path.split(".", 1)
        part = data.get(section)
        if isinstance(part, dict) and key in part:
            value = part.pop(key)
            if top and top not in data:
                data[top] = value
    return data


def _get(data: dict, path: str, default=None):
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _set(data: dict, path: str, value) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def typed_sections(data: dict) -> tuple[CurateConfig, TrainConfig]:
    return CurateConfig.model_validate(data.get("curate") or {}), TrainConfig.model_validate(data.get("train") or {})


def _task_of(group: str) -> str:
    return group.split("@", 1)[0]


def _next_out(out: str | None) -> str:
    out = (out or "runs/pipeline").rstrip("/")
    m = re.search(r"_v(\d+)$", out)
    return f"{out[:m.start()]}_v{int(m.group(1)) + 1}" if m else f"{out}_v2"


def propose(findings: list[Finding], inputs: RunInputs, cfg: DiagnoseConfig | None = None,
            data: dict | None = None) -> list[Lever]:
    """The levers for the firing problems, each with its concrete config changes."""
    cfg = cfg or DiagnoseConfig()
    L = cfg.levers
    data = base_config(inputs) if data is None else data
    curate, train = typed_sections(data)
    by = {f.problem: f for f in findings}
    shares = inputs.shares
    factors: dict[str, float] = {t: 1.0 for t in shares}
    reasons: dict[str, list[str]] = {}
    levers: list[Lever] = []

    contributions: dict[str, dict[str, float]] = {}   # lever problem -> {task: factor}

    def boost(task: str, factor: float, why: str, problem: str):
        if task in factors:
            factors[task] *= factor
            reasons.setdefault(task, []).append(why)
            mine = contributions.setdefault(problem, {})
            mine[task] = mine.get(task, 1.0) * factor

    tags_wanted, labels_wanted = [], []
    # 1. uneven
    f = by.get("uneven")
    if f and f.fires:
        spread, drop, gain = f.checks
        lever = Lever("uneven", "mixture weights toward the lagging tasks",
                      f.fired_checks()[0].detail)
        table = {row["task"]: row for row in f.table}
        if spread.status == "fires":
            scores = {_task_of(g): r["tuned"] for g, r in table.items() if r["n"] >= cfg.min_n}
            best, worst = max(scores.values()), min(scores.values())
            for task, s in scores.items():
                boost(task, 1 + (L.max_boost - 1) * (best - s) / max(best - worst, 1e-9),
                      f"lags the best task by {best - s:.2f}", "uneven")
            if spread.value >= L.staged_above * spread.threshold:
                lagging = sorted(t for t, s in scores.items() if best - s > spread.threshold and t in shares)
                if lagging and not any(s.name == "focus" for s in (train.stages or [])):
                    stages = [s.model_dump(mode="json", exclude_none=True) for s in train.stages] if train.stages else \
                        [{"name": "main", "epochs": train.epochs}]
                    stages.append({"name": "focus", "epochs": 1.0, "lr": train.lr * L.lr_factor, "tasks": lagging,
                                   "replay": L.replay})
                    lever.changes.append(Change("train.stages", _get(data, "train.stages"), stages))
                    lever.name += " and a focus stage"
        if gain.status == "fires":
            deltas = {_task_of(g): r["delta"] for g, r in table.items() if "delta" in r and r["n"] >= cfg.min_n}
            hi, lo = max(deltas.values()), min(deltas.values())
            for task, dl in deltas.items():
                boost(task, 1 + (L.max_boost - 1) * (hi - dl) / max(hi - lo, 1e-9),
                      f"gained {hi - dl:.2f} less than the task tuning helped most", "uneven")
        if drop.status == "fires":
            for d in f.extra.get("drops", []):
                boost(_task_of(d["task"]), L.max_boost, "scored below base after tuning", "uneven")
        if not shares:
            new_t = round(curate.balance.temperature * 1.5, 2)
            lever.changes += [Change("curate.balance.strategy", curate.balance.strategy, "temperature"),
                              Change("curate.balance.temperature", curate.balance.temperature, new_t)]
            lever.advice = "the training mixture is unknown (no curated/kept.jsonl): raised the mixing temperature instead"
        levers.append(lever)
    # 2. crosstalk
    f = by.get("crosstalk")
    if f and f.fires:
        crossed = [r["task"] for r in f.table if r.get("status") == "fires"]   # decided per task (rise over base)
        lever = Lever("crosstalk", "task tags and hard negatives for the crossed tasks", f.checks[0].detail)
        for g in crossed:
            boost(_task_of(g), (1 + L.max_boost) / 2, "its outputs perform other tasks", "crosstalk")
        tags_wanted.append(lever)
        into = {t: o for t, o in _crossed_into(f).items()
                if any(_task_of(g) == t for g in crossed)}
        into = dict(sorted(((t, o) for t, o in into.items() if o), key=lambda kv: kv[0])[:4])
        _add_hard_negatives(lever, into, shares, curate.balance.hard_negatives, L.hard_negatives)
        if train.task_tags != "none" and not train.stages and not _writes(levers, "train.stages"):
            hard = sorted({_task_of(g) for g in crossed} & set(shares))
            lever.changes.append(Change("train.stages", None, staged_schedule(train, hard)))
            lever.name += "; the staged schedule (mixed -> grouped -> hard)"
        labels_wanted += [_task_of(g) for g in crossed]
        levers.append(lever)
    # 3. format
    f = by.get("format")
    if f and f.fires:
        bad = [r["task"] for r in f.table if r.get("status") == "fires"]
        lever = Lever("format", "task tags, format checks in curation, format exemplars of the violating tasks",
                      f.checks[0].detail)
        for g in bad:
            boost(_task_of(g), (1 + L.max_boost) / 2, "breaks its format", "format")
        if not curate.quality.check_format:
            lever.changes.append(Change("curate.quality.check_format", False, True))
        exemplars = _exemplar_shares(sorted({_task_of(g) for g in bad}), shares, L.exemplars)
        _merge(lever, "curate.balance.format_exemplars", curate.balance.format_exemplars, exemplars)
        tags_wanted.append(lever)
        labels_wanted += [_task_of(g) for g in bad]
        levers.append(lever)
    # 4. forgetting
    f = by.get("forgetting")
    if f and f.fires:
        lever = Lever("forgetting", "a gentler update and replay", f.fired_checks()[0].detail)
        lever.changes.append(Change("train.lr", train.lr, float(f"{train.lr * L.lr_factor:.3g}")))
        if train.stages:
            stages = [s.model_dump(mode="json", exclude_none=True) for s in train.stages]
            touched = False
            for s in stages:
                if (s.get("tasks") or s.get("families")) and s.get("replay", 0) < L.replay:
                    s["replay"], touched = L.replay, True
            if touched:
                lever.changes.append(Change("train.stages", _get(data, "train.stages"), stages))
        if inputs.run_config is not None and float(data.get("replay") or 0) < L.replay:
            lever.changes.append(Change("replay", data.get("replay", 0.0), L.replay))
        elif inputs.run_config is None:
            lever.advice = (f"mix general instruction data into training at a {L.replay:.0%} share (`mtsft run` "
                            "does it with `replay:`; by hand: mtsft.datasets.real_train_records(['alpaca_en_demo', "
                            "'alpaca_zh_demo']))")
        levers.append(lever)
    # 5. overfitting to frequent tasks
    f = by.get("overfit")
    if f and f.fires:
        gap, corr, seen = f.checks
        lever = Lever("overfit", "fewer epochs on the frequent / overfitting tasks", f.fired_checks()[0].detail)
        flagged = [t for t in f.extra.get("flagged", []) if t in shares]
        if "fires" in (gap.status, seen.status) and flagged and set(flagged) >= set(shares):
            lever.changes.append(Change("train.epochs", train.epochs, max(0.25, round(train.epochs * L.cut, 3))))
        elif "fires" in (gap.status, seen.status):
            for t in flagged:
                boost(t, L.cut, "memorised: eval loss or held-out score far from training", "overfit")
            if train.epochs > 1:   # fewer passes over the records it memorises
                cap = max(0.25, round(train.epochs * L.cut, 3))
                _merge(lever, "train.max_task_epochs", train.max_task_epochs, {t: cap for t in flagged})
        if corr.status == "fires" and shares:
            mean_root = sum(s ** 0.5 for s in shares.values()) / len(shares)
            for t, s in shares.items():  # temperature 2 on top of the current mixture: frequent tasks shrink
                boost(t, mean_root / max(s ** 0.5, 1e-9), "frequent task (flattened toward uniform)", "overfit")
        levers.append(lever)
    # task tags: one change shared by crosstalk and format
    if tags_wanted and train.task_tags == "none":
        tags_wanted[0].changes.append(Change("train.task_tags", "none", "system"))
    # the label list: one switch, for crosstalk or format on a label task
    if not train.label_list and any(is_label_task(t) for t in labels_wanted):
        owner = next(lv for lv in levers if lv.problem in ("crosstalk", "format"))
        owner.changes.append(Change("train.label_list", False, True))
        owner.name += "; the label list in label tasks' requests"
    # mixture weights: every lever's factors folded into one weights mixture
    if shares and any(abs(v - 1.0) > 1e-6 for v in factors.values()):
        raw = {t: shares[t] * factors[t] for t in shares}
        total = sum(raw.values())
        weights = {t: round(v / total, 4) for t, v in sorted(raw.items())}
    else:
        weights = None
    if weights and max(abs(weights[t] - shares[t]) for t in shares) >= 0.005:   # else: the same mixture again
        owner = next((lv for lv in levers if lv.problem in ("uneven", "overfit", "crosstalk", "format")), levers[0])
        owner.changes.append(Change("curate.balance.strategy", curate.balance.strategy, "weights"))
        owner.changes.append(Change("curate.balance.weights", curate.balance.weights, weights))
        if train.mixture is not None:
            owner.changes.append(Change("train.mixture", _get(data, "train.mixture"),
                                        {"strategy": "weights", "weights": weights}))
        owner.why += "; mixture share -> weight: " + ", ".join(f"{t} {shares[t]:.3f}->{weights[t]:.3f}"
                                                             for t in sorted(weights) if abs(weights[t] - shares[t]) > 5e-4)
        for lv in levers:
            mine = contributions.get(lv.problem)
            if mine:
                lv.why += ("; " if lv.why else "") + "its weight factors " + ", ".join(
                    f"{t} x{f:.2f}" for t, f in sorted(mine.items())) + (
                    "" if lv is owner else f" (folded into curate.balance.weights, under {owner.problem})")
    return levers


# matrix columns that are no task: an empty output, an echo or a loop (failures of the asked task, which
# hard negatives of another task would not fix)
NOT_A_TASK = {EMPTY, NO_TASK}


def _crossed_into(f: Finding) -> dict[str, list[str]]:
    labels, matrix = f.extra.get("labels", []), f.extra.get("matrix", [])
    out = {}
    for i, intended in enumerate(labels):
        row = matrix[i] if i < len(matrix) else []
        others = sorted(((n, labels[j]) for j, n in enumerate(row) if j != i and n > 0 and labels[j] not in NOT_A_TASK),
                        reverse=True)
        if others:
            out[intended] = [name for _, name in others[:2]]
    return out


def _merge(lever: Lever, path: str, old: dict, new: dict) -> None:
    """`new`'s entries written over the config's mapping at `path`, a change only where one differs."""
    merged = {**old, **new}
    if merged != old:
        lever.changes.append(Change(path, dict(old), merged))


def _writes(levers: list[Lever], path: str) -> bool:
    return any(ch.path == path for lv in levers for ch in lv.changes)


def _lever_share(task: str, shares: dict[str, float], fraction: float) -> float:
    """Registry records for `task`: `fraction` of its share of the training set (of an even share when the
    mixture is unknown), at least half a percent."""
    return round(max(0.005, shares.get(task, 1 / max(len(shares), 12)) * fraction), 4)


def _add_hard_negatives(lever: Lever, into: dict[str, list[str]], shares: dict[str, float], current: dict,
                        fraction: float) -> None:
    """Hard negatives for each crossed pair (task -> what its outputs performed) the registry can draw;
    advice for the rest."""
    pairs = _hard_negative_pairs(into, shares, fraction)
    _merge(lever, "curate.balance.hard_negatives", current, pairs)
    left = {t: [o for o in others if f"{t}>{o}" not in pairs] for t, others in into.items()}
    left = {t: o for t, o in left.items() if o}
    lever.advice = ("add hard negatives the task registry cannot draw: prompts of " + "; ".join(
        f"{t} whose content reads like {', '.join(o)}" for t, o in left.items()) +
                    ", answered as the asked task") if left else ""


def _hard_negative_pairs(into: dict[str, list[str]], shares: dict[str, float], fraction: float) -> dict[str, float]:
    """{'a>b': share} for each crossed pair whose hard negatives the task registry can draw."""
    return {f"{t}>{o}": _lever_share(t, shares, fraction) for t, others in into.items() for o in others
            if (t in shares or not shares) and _registry_has(lambda: hard_negative_records(t, o, 1))}


def _exemplar_shares(tasks: list[str], shares: dict[str, float], fraction: float) -> dict[str, float]:
    """{task: share} for each violating task whose format-passing records the task registry can draw."""
    return {t: _lever_share(t, shares, fraction) for t in tasks
            if (t in shares or not shares) and _registry_has(lambda: format_exemplar_records(t, 1))}


def _registry_has(draw) -> bool:
    try:
        return bool(draw())
    except KeyError:   # a task the registry does not know (a user label)
        return False


def staged_schedule(train: TrainConfig, hard_tasks: list[str]) -> list[dict]:
    """The shipped staged recipe's stages (mixed -> grouped -> hard, recipes/train/staged.yaml) with their
    learning rates scaled to the run's, the hard stage on `hard_tasks` (the crossed ones) when given."""
    from mtsft.train.config import load_train_config

    recipe = load_train_config("staged")
    stages = []
    for stage in recipe.stages or []:
        data = stage.model_dump(mode="json", exclude_none=True)
        if stage.lr is not None:
            data["lr"] = float(f"{stage.lr * train.lr / recipe.lr:.3g}")
        if (stage.tasks or stage.families) and hard_tasks:
            data.pop("families", None)
            data["tasks"] = hard_tasks
        stages.append(data)
    return stages


def apply_levers(config: C, levers: list[Lever], *, out: str | None = None) -> C:
    """`config` (a RunConfig) with every lever's changes written in and `out` pointed at a new folder,
    validated by its own class. Only what was set in `config` and the changes are set in the result, so
    its YAML reads as the run's choices plus the levers."""
    new = config.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for lever in levers:
        for ch in lever.changes:
            _set(new, ch.path, ch.new)
    new["out"] = out or _next_out(new.get("out"))
    return type(config).model_validate(new)


def changed_config(inputs: RunInputs, levers: list[Lever], config_class: type[C], *, out: str | None = None) -> C:
    """The run's config (`base_config`) with the levers pulled, validated by `config_class` (RunConfig)."""
    data = _lift_set_by_run(base_config(inputs), config_class.SET_BY_RUN)
    return apply_levers(config_class.model_validate(data), levers, out=out)
