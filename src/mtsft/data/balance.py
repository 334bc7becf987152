"""Balance round: bring each task to its target count under the shared mixing rules of `mtsft.mixture`.

Down-sampling keeps the highest-quality records, stratified by difficulty (each task keeps its spread of
easy and hard records instead of only the easy ones). Up-sampling first makes augmented copies (the
instruction re-phrased through a framing template, or a system prompt added/varied, in the record's
language) and only when every record has had each augmentation once does it repeat records verbatim.
Copies are new records (`meta.upsampled = {from, how}`), counted apart from the inputs, and so are the
records the task registry adds: when `hard_negatives` / `format_exemplars` ask for them (how: hard_negative,
format_exemplar; from: registry:TASK), and with `upsample_with: registry`, before any copy (how: registry).
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections import Counter, defaultdict

import numpy as np

from mtsft.data.common import RoundResult, curate_meta, reject, task_of
from mtsft.data.config import BalanceConfig
from mtsft.data.parallel import groups_of
from mtsft.mixture import AUGMENTATIONS, augment, prompt_set, registry_additions, registry_upsample

ROUND = "balance"

def targets_for(counts: dict[str, int], cfg: BalanceConfig) -> dict[str, int]:
    """The mixture's counts, each capped at `max_upsample` times the task's records: past a few copies a
    record teaches nothing new and invites overfitting, so a rare task's share stays below its rate
    rather than being filled with repeats (the report shows target and cap)."""
    return {t: min(n, int(counts[t] * cfg.max_upsample)) for t, n in mixture_targets(counts, cfg).items()}


def mixture_targets(counts: dict[str, int], cfg: BalanceConfig) -> dict[str, int]:
    return cfg.counts(counts)


def _tiebreak(seed: int, record: dict) -> str:
    return hashlib.sha1(f"{seed}:{record['id']}".encode()).hexdigest()


def difficulty_bins(records: list[dict], bins: int) -> list[int]:
    values = np.array([curate_meta(r).get("difficulty", 0.0) for r in records])
    order = np.argsort(values, kind="stable")
    out = np.empty(len(records), dtype=int)
    out[order] = (np.arange(len(records)) * bins) // max(len(records), 1)
    return out.tolist()


def select_best(records: list[dict], target: int, bins: int, seed: int) -> set[int]:
    """Indices of the `target` records to keep: per difficulty bin a proportional share, best quality first."""
    by_bin = defaultdict(list)
    for i, b in enumerate(difficulty_bins(records, bins)):
        by_bin[b].append(i)
    exact = {b: len(m) * target / len(records) for b, m in by_bin.items()}
    quota = {b: int(x) for b, x in exact.items()}
    for b in sorted(exact, key=lambda b: (quota[b] - exact[b], b))[: target - sum(quota.values())]:
        quota[b] += 1
    keep = set()
    for b, members in by_bin.items():
        ranked = sorted(members, key=lambda i: (-curate_meta(records[i]).get("quality", 0.5), _tiebreak(seed, records[i])))
        keep.update(ranked[: quota[b]])
    return keep


AUGMENT_MARGIN = 64  # tokens an augmentation may add; records closer to the max length are repeated instead


def upsample(records: list[dict], need: int, augment_first: bool, rng: random.Random,
             max_tokens: int | None = None) -> list[dict]:
    """`need` new records made from `records` (best first): augmentations, then verbatim repeats."""
    ranked = sorted(records, key=lambda r: -curate_meta(r).get("quality", 0.5))
    kinds = AUGMENTATIONS if augment_first else ()
    out = []
    for k in range(need):
        source = ranked[k % len(ranked)]
        round_no = k // len(ranked)
        how = kinds[round_no] if round_no < len(kinds) else "repeat"
        if max_tokens and curate_meta(source).get("tokens", 0) + AUGMENT_MARGIN > max_tokens:
            how = "repeat"
        out.append(augment(source, how, round_no, rng) if how != "repeat" else
                   {**copy.deepcopy(source), "id": f"{source['id']}~repeat{round_no}",
                    "meta": {**source.get("meta", {}), "upsampled": {"from": source["id"], "how": "repeat"}}})
    return out


def balance_round(records: list[dict], cfg: BalanceConfig, seed: int = 0, max_tokens: int | None = None) -> RoundResult:
    by_task = {task_of(records[int(m[0])]): [records[i] for i in m.tolist()]  # a group-by on the task
               for m in groups_of([task_of(r) for r in records], 1)}
    counts = {t: len(v) for t, v in sorted(by_task.items())}
    if not counts:
        return RoundResult([], [], notes={"before": {}, "targets": {}, "upsampled": {}})
    targets = targets_for(counts, cfg)
    rng = random.Random(seed)
    dropped_ids, added = set(), []
    seen = prompt_set(records) if cfg.upsample_with == "registry" else set()
    for task, members in sorted(by_task.items()):
        target = targets.get(task, 0)
        if target < len(members):
            keep = select_best(members, target, cfg.difficulty_bins, seed)
            dropped_ids.update(id(m) for i, m in enumerate(members) if i not in keep)
        elif target > len(members):
            need = target - len(members)
            if cfg.upsample_with == "registry":
                fresh = registry_upsample(task, need, members, seen, seed)
                added += fresh
                need -= len(fresh)
            added += upsample(members, need, cfg.augment, rng, max_tokens)
    kept = [r for r in records if id(r) not in dropped_ids]
    extra = registry_additions(kept + added, cfg.hard_negatives, cfg.format_exemplars, seed)
    for a in extra:   # the registry's records join their task's target, so validation expects them
        targets[task_of(a)] = targets.get(task_of(a), 0) + 1
    added += extra
    rejected = [reject(r, ROUND, "downsampled", target=targets[task_of(r)]) for r in records if id(r) in dropped_ids]
    how = Counter((task_of(a), a["meta"]["upsampled"]["how"]) for a in added)
    wanted = mixture_targets(counts, cfg)
    notes = {"before": counts, "targets": targets, "strategy": cfg.strategy,
             "capped": {t: {"mixture": wanted[t], "cap": targets[t]} for t in wanted if targets[t] < wanted[t]},
             "upsampled": {f"{t}:{h}": n for (t, h), n in sorted(how.items())},
             "upsampled_by_kind": dict(Counter(a["meta"]["upsampled"]["how"] for a in added))}
    return RoundResult(kept + added, rejected, added=added, notes=notes)
