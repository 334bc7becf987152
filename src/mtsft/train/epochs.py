"""Which records one epoch of one stage trains on.

Every epoch draws again (seeded by run seed, stage and epoch), so a down-sampled task sees a different
subset each epoch, and an up-sampled one trains its extra draws as augmentations (instruction
re-phrasing, system-prompt variation: `mtsft.mixture.augment`, the same ones `data curate` uses)
rather than verbatim repeats. How many records each task gets comes from
`mtsft.mixture.mixture_counts`: the same rules `data curate` balances with.
"""

from __future__ import annotations

import random
from collections import defaultdict

from mtsft.train.config import TrainStage


def task_family(task: str) -> str | None:
    """The registry's family of `task`, None for a task the registry does not know."""
    from mtsft import tasks

    try:
        return tasks.get(task).family
    except (KeyError, ImportError):
        return None


def _in_focus(task: str, stage: TrainStage) -> bool:
    if stage.tasks is None and stage.families is None:
        return True
    return task in (stage.tasks or []) or (task_family(task) in (stage.families or []))


def _draw(indices: list[int], want: int, rng: random.Random) -> list[tuple[int, int]]:
    """`want` (index, copy) draws: a fresh sample when down-sampling; when up-sampling, every record once
    (copy 0) and the extra draws as copies 1, 2, ... that training turns into augmentations."""
    if not indices or want <= 0:
        return []
    copies, rest = divmod(want, len(indices))
    out = []
    for copy in range(copies):
        out += [(i, copy) for i in rng.sample(indices, len(indices))]
    return out + [(i, copies) for i in rng.sample(indices, rest)]


def epoch_draws(tasks: list[str], stage: TrainStage, *, seed: int, epoch: int) -> list[list[tuple[int, int]]]:
    """(record index, copy number) draws for one epoch, as groups trained in order (one group unless
    `order: grouped`). Copy 0 is the record itself; copy k > 0 is its k-th augmentation.

    tasks[i] is record i's task. Records outside the stage's tasks/families count as replay: a share
    `stage.replay` of the stage's size is drawn from them uniformly.
    """
    rng = random.Random(f"{seed}:{stage.name}:{epoch}")
    by_task: dict[str, list[int]] = defaultdict(list)
    others: list[int] = []
    for i, task in enumerate(tasks):
        (by_task[task] if _in_focus(task, stage) else others).append(i)
    if not by_task:
        raise ValueError(f"stage {stage.name!r}: no records of its tasks/families in the training data")
    counts = {t: len(ix) for t, ix in sorted(by_task.items())}
    if stage.mixture is not None:
        counts = stage.mixture.counts(counts)
    picked = [d for t in sorted(counts) for d in _draw(by_task[t], counts[t], rng)]
    if stage.replay and others:
        picked += [(i, 0) for i in rng.sample(others, min(len(others), round(stage.replay * len(picked))))]
    rng.shuffle(picked)
    if stage.order == "shuffled":
        return [picked]
    groups: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for d in picked:
        groups[task_family(tasks[d[0]]) or tasks[d[0]]].append(d)
    return [groups[k] for k in sorted(groups)]


def epoch_indices(tasks: list[str], stage: TrainStage, *, seed: int, epoch: int) -> list[list[int]]:
    """Record indices for one epoch (`epoch_draws` without the copy numbers)."""
    return [[i for i, _ in group] for group in epoch_draws(tasks, stage, seed=seed, epoch=epoch)]
