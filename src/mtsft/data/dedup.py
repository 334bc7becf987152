"""Dedup round: exact (normalised hash) and near (MinHash LSH) duplicates of the whole conversation,
within and across tasks, keeping the best record of each cluster; then the contamination check that drops
training records whose prompts overlap the evaluation files.

Both kinds of duplicate are a group-by on a per-record key (the hash, the LSH cluster label), so the round
is linear in the number of records.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mtsft.data.common import RoundResult, curate_meta, reject
from mtsft.data.config import DedupConfig
from mtsft.data.parallel import engine_groups, groups_of, map_parts
from mtsft.data.shingles import lsh_components, minhash_signatures, shingle_hashes, stable_hash
from mtsft.records import assistant_turns, prompt
from mtsft.text import normalize

ROUND = "dedup"


def conversation_key(record: dict) -> str:
    return normalize("\n".join(f"{m['role']}: {m['content']}" for m in record["messages"]))


def blemishes(record: dict) -> int:
    """Visible flaws a copy can have and its twin not: turns padded with leading or trailing whitespace
    (normalisation makes them equal, so they land in one group), and conflict flags a kept record carries."""
    padded = sum(1 for m in record.get("messages") or () if m["content"] != m["content"].strip())
    meta = curate_meta(record)
    return padded + len(meta.get("conflicts", ())) + ("relabelled_from" in meta)


def rank_key(record: dict, index: int) -> tuple:
    """Cleanest first: fewest blemishes, then the highest quality score (the verifier's included), then the
    earliest in the input (deterministic). Quality alone would keep a padded copy whose extra characters
    happen to bring its length nearer the task's median."""
    return (blemishes(record), -curate_meta(record).get("quality", 0.5), index)


def keep_best_per_group(records: list[dict], labels, reason: str, extra=None) -> tuple[list[dict], list[dict]]:
    """Within each group of equal `labels`, keep the best record and reject the others, naming the kept one."""
    drop = {}
    for members in groups_of(labels, 2):  # a group-by (on Ray Data under that engine); the groups are few
        best = min(members.tolist(), key=lambda i: rank_key(records[i], i))
        for i in members.tolist():
            if i != best:
                drop[i] = best
    kept, rejected = [], []
    for i, r in enumerate(records):
        if i in drop:
            detail = {"duplicate_of": records[drop[i]]["id"], **(extra(i) if extra else {})}
            rejected.append(reject(r, ROUND, reason, **detail))
        else:
            kept.append(r)
    return kept, rejected


def signatures_batch(records: list[dict], text_of, cfg: DedupConfig) -> np.ndarray:
    """MinHash signatures of `text_of(record)` for one batch (the local pool and Ray call it)."""
    return minhash_signatures([text_of(r) for r in records], cfg.num_perm, cfg.shingle, cfg.short_shingle,
                              cfg.short_chars)


def record_signatures(records: list[dict], text_of, cfg: DedupConfig, workers: int = 1) -> np.ndarray:
    """MinHash signatures of `text_of(record)`, the texts made one chunk at a time (a million normalised
    conversations at once would hold gigabytes for nothing), chunks across `workers` processes."""
    if not records:
        return np.empty((0, cfg.num_perm), dtype=np.uint32)
    return np.concatenate(map_parts(signatures_batch, records, (text_of, cfg), workers, chunk=10_000))


def answers_key(record: dict) -> str:
    return normalize("\n".join(assistant_turns(record)))


def near_duplicate_clusters(records: list[dict], cfg: DedupConfig, workers: int = 1):
    """(cluster label, similarity to the member it was linked to) per record."""
    sigs = record_signatures(records, conversation_key, cfg, workers)
    answers = record_signatures(records, answers_key, cfg, workers)
    return lsh_components(sigs, cfg.bands, cfg.threshold, answers, cfg.answer_threshold,
                          groups_of if engine_groups() else None)


# ---- contamination ------------------------------------------------------------------------------------
# A training record leaks an eval item when it carries that item's content. Eval sets built from one task
# share a long instruction (the label list, the JSON spec): a training record of the same task repeats it
# whatever its own text, so the overlap is measured on content only. An n-gram found in many eval prompts
# (`contamination_template_min`) is that shared instruction, not any one item's text, and is left out on
# both sides; a record whose prompt is an eval prompt verbatim is caught whatever it holds.

class EvalIndex(NamedTuple):
    content: np.ndarray    # sorted unique n-gram hashes of the eval prompts, shared instruction left out
    template: np.ndarray   # sorted unique n-gram hashes found in `contamination_template_min`+ eval prompts
    prompts: set[str]      # the normalised eval prompts (verbatim copies)


def eval_ngrams(eval_records: list[dict], n: int, template_min: int | None = None) -> EvalIndex:
    """The eval prompts' n-grams, split into content and the instruction they share (see above)."""
    template_min = template_min or DedupConfig().contamination_template_min
    prompts = [normalize(prompt(r)) for r in eval_records]
    hashes, offsets = shingle_hashes(prompts, n)
    rows = np.repeat(np.arange(len(prompts)), np.diff(offsets.astype(np.int64)))
    order = np.lexsort((rows, hashes))
    h, r = hashes[order], rows[order]
    first = np.ones(len(h), dtype=bool)
    first[1:] = (h[1:] != h[:-1]) | (r[1:] != r[:-1])  # each n-gram once per prompt
    unique, in_prompts = np.unique(h[first], return_counts=True)
    shared = in_prompts >= template_min
    return EvalIndex(unique[~shared], unique[shared], set(prompts))


def contamination_share(records: list[dict], index: EvalIndex, n: int, batch: int = 10_000) -> np.ndarray:
    """Per record, the share of its prompt's content n-grams (the eval set's shared instruction left out)
    that occur in an eval prompt; 1.0 for a prompt equal to an eval prompt."""
    out = np.zeros(len(records))
    for start in range(0, len(records), batch):
        texts = [normalize(prompt(r)) for r in records[start:start + batch]]
        hashes, offsets = shingle_hashes(texts, n)
        own = (~np.isin(hashes, index.template)).astype(np.float64)
        hit = np.isin(hashes, index.content).astype(np.float64)
        starts = offsets[:-1].astype(np.int64)
        counts = np.add.reduceat(own, starts) if len(hashes) else np.zeros(len(texts))
        hits = np.add.reduceat(hit, starts) if len(hashes) else np.zeros(len(texts))
        share = np.divide(hits, counts, out=np.zeros(len(texts)), where=counts > 0)
        share[[t in index.prompts for t in texts]] = 1.0
        out[start:start + len(texts)] = share
    return out


def drop_contaminated(records: list[dict], eval_records: list[dict], cfg: DedupConfig):
    if not eval_records:
        return records, []
    index = eval_ngrams(eval_records, cfg.contamination_ngram, cfg.contamination_template_min)
    share = contamination_share(records, index, cfg.contamination_ngram)
    kept, rejected = [], []
    for r, s in zip(records, share):
        if s >= cfg.contamination_threshold:
            rejected.append(reject(r, ROUND, "contaminated", eval_overlap=round(float(s), 3)))
        else:
            kept.append(r)
    return kept, rejected


def dedup_facts(records: list[dict], cfg: DedupConfig) -> tuple[list[str], np.ndarray | None, np.ndarray | None]:
    """Per batch (the local pool and Ray call it): each record's exact key and, with near dedup on, the
    MinHash signatures of its conversation and of its answers; each conversation normalised once."""
    convs = [conversation_key(r) for r in records]
    keys = [stable_hash(c) for c in convs]
    if not cfg.near:
        return keys, None, None
    sigs = minhash_signatures(convs, cfg.num_perm, cfg.shingle, cfg.short_shingle, cfg.short_chars)
    answers = minhash_signatures([answers_key(r) for r in records], cfg.num_perm, cfg.shingle,
                                 cfg.short_shingle, cfg.short_chars)
    return keys, sigs, answers


def _kept_rows(parts: list, field: int, rows: np.ndarray) -> np.ndarray:
    """The signatures of the kept `rows` (ascending) gathered from each part's `field`, each part freed
    once copied: concatenating all parts and then indexing would hold three copies of a gigabyte at 1M."""
    out = np.empty((len(rows), parts[0][field].shape[1]), dtype=parts[0][field].dtype)
    start = filled = 0
    for i, part in enumerate(parts):
        block = part[field]
        stop = start + len(block)
        lo, hi = np.searchsorted(rows, [start, stop])
        out[filled:filled + hi - lo] = block[rows[lo:hi] - start]
        filled += hi - lo
        start = stop
        parts[i] = tuple(None if j == field else x for j, x in enumerate(part))
    return out


def dedup_round(records: list[dict], cfg: DedupConfig, eval_records: list[dict] | None = None,
                show: bool = True, workers: int = 1) -> RoundResult:
    """Exact duplicates (a group-by on the key), then near duplicates among the rest (MinHash LSH, and their
    answers alike too: one passage asked about in many ways shares most of its text, yet each question is a
    record worth keeping), then contamination. The per-record keys and signatures are one batch function over the pool; the records
    an exact duplicate removes have theirs computed too (a few percent), never used."""
    parts = map_parts(dedup_facts, records, (cfg,), workers, chunk=10_000) if records else []
    kept, exact = keep_best_per_group(records, [k for p in parts for k in p[0]], "exact_duplicate")
    near = []
    if cfg.near and len(kept) >= 2:
        row = {id(r): i for i, r in enumerate(records)}
        rows = np.fromiter((row[id(r)] for r in kept), dtype=np.int64, count=len(kept))
        sigs, answers = _kept_rows(parts, 1, rows), _kept_rows(parts, 2, rows)
        labels, sim = lsh_components(sigs, cfg.bands, cfg.threshold, answers, cfg.answer_threshold,
                                     groups_of if engine_groups() else None)
        del sigs, answers
        kept, near = keep_best_per_group(kept, labels, "near_duplicate", lambda i: {"jaccard": round(float(sim[i]), 3)})
    kept, leaked = drop_contaminated(kept, eval_records or [], cfg)
    notes = {"exact_duplicates": len(exact), "near_duplicates": len(near), "contaminated": len(leaked),
             "eval_records": len(eval_records or [])}
    return RoundResult(kept, exact + near + leaked, notes=notes)
