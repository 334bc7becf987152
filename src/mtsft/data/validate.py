"""Validate round: checks on the curated set as a whole; it rejects nothing, it says what to change.

Checks: every task has at least `min_per_task` records; each task's share is within `tolerance` of its
target share; every record fits the max length; no exact duplicates among the original records (up-sampled
copies are duplicates on purpose); no record overlaps the evaluation files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from mtsft.data.common import curate_meta, task_counts
from mtsft.data.config import CurateConfig
from mtsft.data.dedup import contamination_share, conversation_key, eval_ngrams
from mtsft.data.shingles import stable_hash


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def validate_round(kept: list[dict], targets: dict[str, int], cfg: CurateConfig,
                   eval_records: list[dict] | None = None) -> list[Check]:
    v = cfg.validate_
    counts = task_counts(kept)
    checks = []

    low = {t: n for t, n in counts.items() if n < v.min_per_task}
    missing = [t for t, n in targets.items() if n > 0 and t not in counts]
    checks.append(Check("min_per_task", not low and not missing,
                        f"tasks under {v.min_per_task}: {low or 'none'}; targeted but empty: {missing or 'none'}",
                        "add data for those tasks (mtsft data synth / import) or lower validate.min_per_task"))

    total, target_total = sum(counts.values()), sum(targets.values())
    off = {}
    if total and target_total:
        for t in sorted(set(counts) | set(targets)):
            share, want = counts.get(t, 0) / total, targets.get(t, 0) / target_total
            if abs(share - want) > v.tolerance:
                off[t] = f"{share:.1%} vs target {want:.1%}"
    checks.append(Check("distribution", not off, f"tasks off target by more than {v.tolerance:.0%}: {off or 'none'}",
                        "raise balance.total, change balance.strategy/weights, or widen validate.tolerance"))

    tokens = np.array([curate_meta(r).get("tokens", 0) for r in kept])
    too_long = int((tokens > cfg.quality.max_tokens).sum())
    checks.append(Check("max_length", too_long == 0,
                        f"{too_long} records over {cfg.quality.max_tokens} tokens (longest {int(tokens.max()) if len(tokens) else 0})",
                        "records over quality.max_tokens should not get here: check the tokenizer/estimate "
                        "used (--tokenizer) and quality.max_tokens"))

    originals = [r for r in kept if "upsampled" not in r.get("meta", {})]
    dups = sum(n - 1 for n in Counter(stable_hash(conversation_key(r)) for r in originals).values())
    checks.append(Check("no_duplicates", dups == 0, f"{dups} exact duplicates among original records",
                        "keep the dedup round on (dedup.near, dedup.threshold)"))

    leaked = 0
    if eval_records:
        index = eval_ngrams(eval_records, cfg.dedup.contamination_ngram, cfg.dedup.contamination_template_min)
        share = contamination_share(originals, index, cfg.dedup.contamination_ngram)
        leaked = int((share >= cfg.dedup.contamination_threshold).sum())
    checks.append(Check("no_contamination", leaked == 0,
                        f"{leaked} records overlap the evaluation files" if eval_records else "no --eval-data files given",
                        "pass the evaluation files with --eval-data so dedup drops leaked records"))
    return checks


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


def as_dicts(checks: list[Check]) -> list[dict]:
    return [asdict(c) for c in checks]
