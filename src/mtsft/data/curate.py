"""Curation: the rounds chained, every input record accounted for.

    classify -> quality -> conflicts -> dedup -> (difficulty) -> balance -> validate

Balance runs late, after quality, conflicts and dedup, because down-sampling keeps the best-scored records
(the quality round makes the scores) and up-sampled copies would otherwise be removed again as duplicates.
Conflicts run before dedup: a copied prompt with a different answer is
judged by the task's verifier (which answer is right) rather than dropped as a near-duplicate of
whichever record happens to score higher. Each round is a pure function over a batch of records (`RoundResult`);
this module only chains them, keeps the books and asserts `inputs == kept + rejected` (copies apart).

`curate(records, config)` is the notebook entry; `curate_files(inputs, config, out_dir)` adds the edges
(reading, writing kept/rejected/review/manifest and the report).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mtsft.data.balance import balance_round
from mtsft.data import score_cache
from mtsft.data.classify import classify_round, load_classifier
from mtsft.data.common import (RoundResult, curate_meta, length_method, reject, task_counts, task_of,
                               token_lengths)
from mtsft.data.config import ClassifyConfig, CurateConfig
from mtsft.data.conflicts import conflicts_round
from mtsft.data.dedup import dedup_round
from mtsft.data.difficulty import difficulty_round
from mtsft.data.quality import quality_round
from mtsft.data.report import write_report
from mtsft.data.validate import Check, as_dicts, failed, validate_round
from mtsft.data.inputs import read_inputs
from mtsft.data.parallel import default_workers, engine_active, map_chunks
from mtsft.outputs import claim_folder, staged_into
from mtsft.records import MANIFEST, content_id, conversation_text, write_json_atomic, write_jsonl


@dataclass
class CurationResult:
    kept: list[dict]
    rejected: list[dict]
    review: list[dict]
    inputs: int
    rounds: list[dict]                 # per round: name, entered, kept, rejected, reasons, seconds, notes
    checks: list[Check]
    targets: dict[str, int]
    before: dict[str, int]             # task counts after classification (labels or the classifier's)
    after: dict[str, int]
    difficulty: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # before/after per task
    length_method: str = ""
    config: dict = field(default_factory=dict)

    @property
    def upsampled(self) -> int:
        return sum(1 for r in self.kept if "upsampled" in r.get("meta", {}))

    @property
    def ok(self) -> bool:
        return not failed(self.checks)

    def check_accounting(self) -> None:
        originals = len(self.kept) - self.upsampled
        assert self.inputs == originals + len(self.rejected), (
            f"curation lost records: {self.inputs} inputs != {originals} kept + {len(self.rejected)} rejected")


def _fresh_copy(record: dict, index: int) -> dict:
    """The pipeline's own copy: the caller's records are never modified; stale curation marks dropped."""
    meta = {k: v for k, v in (record.get("meta") or {}).items() if k not in ("curate", "rejected")}
    out = {**record, "meta": meta}
    if not out.get("id"):
        try:
            out["id"] = content_id(record["messages"])
        except Exception:  # a broken record still needs an id; the quality round rejects it
            out["id"] = f"record-{index}"
    return out


def _own(records: list[dict]) -> list[dict]:
    """Records the caller hands over: stale curation marks dropped in place, ids filled."""
    for i, r in enumerate(records):
        meta = r.get("meta")
        if not isinstance(meta, dict):
            r["meta"] = meta = {}
        meta.pop("curate", None)
        meta.pop("rejected", None)
        if not r.get("id"):
            r.update(id=_fresh_copy(r, i)["id"])
    return records


def _round_summary(name: str, entered: int, res: RoundResult, seconds: float) -> dict:
    return {"name": name, "entered": entered, "kept": len(res.kept) - len(res.added), "rejected": len(res.rejected),
            "added": len(res.added), "reasons": dict(Counter(r["meta"]["rejected"]["reason"] for r in res.rejected)),
            "rejected_by_task": dict(Counter(task_of(r) for r in res.rejected)),
            "seconds": round(seconds, 2), "notes": res.notes}


def _difficulty_by_task(records: list[dict]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in records:
        out.setdefault(task_of(r), []).append(curate_meta(r).get("difficulty", 0.0))
    return out


# ---- classification as a batch function (the local pool and Ray's map_batches call it) ---------------

def classify_batch(records: list[dict], cfg: ClassifyConfig) -> list[tuple]:
    """Classify a batch (worker side) and return what changed per record: (task, meta.curate, rejection,
    sent to review). The classifier is row by row, so any split of the records gives the same labels."""
    res = classify_round(records, cfg, show=False, classifier=None)
    review = {id(r) for r in res.review}
    return [(r.get("task"), r["meta"].get("curate"), r["meta"].get("rejected"), id(r) in review) for r in records]


def apply_classify(records: list[dict], outcomes: list[tuple], cfg: ClassifyConfig) -> RoundResult:
    """Write the workers' outcomes onto the parent's records; the round's result as `classify_round` gives it."""
    kept, rejected, review = [], [], []
    notes = {"trusted_labels": 0, "classified": 0, "uncertain": 0}
    for r, (task, meta, rejection, to_review) in zip(records, outcomes):
        if r.get("task") != task or "task" not in r:
            r["task"] = task
        r.setdefault("meta", {})["curate"] = meta
        method = meta.get("task_method")
        notes["trusted_labels" if method == "label" else "uncertain" if "task_guess" in meta else "classified"] += 1
        if rejection is None:
            kept.append(r)
            continue
        r["meta"]["rejected"] = rejection
        rejected.append(r)
        if to_review:
            review.append(r)
    return RoundResult(kept, rejected, review=review, notes=notes)


def classify_parallel(records: list[dict], cfg: ClassifyConfig, show: bool, workers: int) -> RoundResult:
    if workers <= 1 and not engine_active():
        return classify_round(records, cfg, show)
    load_classifier(cfg.train_per_task_lang)  # loaded once here; forked workers share it
    return apply_classify(records, map_chunks(classify_batch, records, (cfg,), workers), cfg)


def _token_counts(records: list[dict], tokenizer) -> list[int]:
    return token_lengths([conversation_text(r) for r in records], tokenizer).tolist()


def curate(records: list[dict], config: CurateConfig | None = None, *, tokenizer=None,
           eval_records: list[dict] | None = None, log=print, copy: bool = True) -> CurationResult:
    """Run every round. `copy=False` lets the rounds annotate the given records in place (saves a dict
    per record; for callers that own them, like `curate_files`)."""
    cfg = config or CurateConfig()
    show = cfg.progress
    if tokenizer is None and cfg.tokenizer:
        from mtsft.model import load_tokenizer
        tokenizer = load_tokenizer(cfg.tokenizer)
    records = [_fresh_copy(r, i) for i, r in enumerate(records)] if copy else _own(records)
    rejected, review, rounds = [], [], []
    current = records

    def run(name, fn):
        nonlocal current
        start = time.perf_counter()
        entered = len(current)
        res = fn(current)
        rounds.append(_round_summary(name, entered, res, time.perf_counter() - start))
        rejected.extend(res.rejected)
        review.extend(res.review)
        current = res.kept
        if log:
            log(f"{name:<10} {entered:>9,} in  {len(res.kept) - len(res.added):>9,} kept  {len(res.rejected):>8,} rejected"
                + (f"  +{len(res.added):,} copies" if res.added else "") + f"  ({time.perf_counter() - start:.1f}s)")
        return res

    workers = cfg.workers or default_workers()
    score_cache.clear()
    classified = run("classify", lambda rs: classify_parallel(rs, cfg.classify, show, workers))
    before = task_counts(classified.kept + classified.rejected)
    run("quality", lambda rs: quality_round(rs, cfg.quality, tokenizer, show, workers))
    run("conflicts", lambda rs: conflicts_round(rs, cfg.conflicts, cfg.classify.relabel_ratio, show, workers,
                                                cfg.quality.run_code))
    run("dedup", lambda rs: dedup_round(rs, cfg.dedup, eval_records, show, workers))
    difficulty_round(current, cfg.difficulty_model, show, workers)
    difficulty_before = _difficulty_by_task(current)
    bal = run("balance", lambda rs: balance_round(rs, cfg.balance, cfg.seed, cfg.quality.max_tokens))
    if bal.added:  # copies changed their prompts: measure them again for the length check (in the pool)
        for r, n in zip(bal.added, map_chunks(_token_counts, bal.added, (tokenizer,), workers)):
            curate_meta(r)["tokens"] = int(n)
    targets = bal.notes.get("targets", {})
    checks = validate_round(current, targets, cfg, eval_records)
    if not current:  # every check of an empty set passes vacuously: say plainly that nothing survived
        checks.insert(0, Check("kept", False, f"nothing kept: all {len(records):,} records were rejected",
                               fix="read the reasons in rejected.jsonl and loosen the round that dropped them"))
    result = CurationResult(
        kept=current, rejected=rejected, review=review, inputs=len(records), rounds=rounds, checks=checks,
        targets=targets, before=before, after=task_counts(current),
        difficulty={"before": difficulty_before, "after": _difficulty_by_task(current)},
        length_method=length_method(tokenizer), config=cfg.model_dump(mode="json", by_alias=True))
    result.check_accounting()
    return result


# ---- the edges: files in, files out -------------------------------------------------------------------

def _prepare_out(out: Path, inputs: list[str]) -> None:
    """Make `out` ready for a new run (the output rule, mtsft.outputs: a file, a special file, an input,
    a folder holding files mtsft did not write are refused), then remove the old manifest: from here on
    the folder reads as unfinished."""
    claim_folder(out, inputs)
    (out / MANIFEST).unlink(missing_ok=True)


def _nothing_kept(result: CurationResult) -> str:
    reasons = Counter(r.get("meta", {}).get("rejected", {}).get("reason", "?") for r in result.rejected)
    top = ", ".join(f"{k} {v:,}" for k, v in reasons.most_common(3))
    return f"nothing kept: all {result.inputs:,} records were rejected ({top})"


def curate_files(inputs: list[str], config: CurateConfig | None = None, out_dir: str | Path = "curated", *,
                 eval_files: list[str] | None = None, log=print, manifest_extra=None) -> CurationResult:
    """`mtsft data curate`: write kept/rejected/review.jsonl, report.md and report.html, then manifest.json.

    Never half-written: the old manifest is removed before anything else, each file is written under a
    temporary name and renamed, and the manifest (with each file's size) comes last: a folder without
    one is unfinished, and no stage reads it. A run that keeps nothing writes its rejections and report
    for the diagnosis, no manifest, and fails. `manifest_extra(result) -> dict` adds an engine's outputs
    and facts before the manifest is written.
    """
    cfg = config or CurateConfig()
    out = Path(out_dir)
    _prepare_out(out, [*inputs, *(eval_files or []), *cfg.dedup.eval_files])
    records, unreadable, files = read_inputs(list(inputs))
    eval_paths = list(eval_files or []) + list(cfg.dedup.eval_files)
    eval_records = []
    for p in eval_paths:
        eval_records += read_inputs([p])[0]
    start = time.perf_counter()
    result = curate(records, cfg, eval_records=eval_records, log=log, copy=False)
    if unreadable:
        result.rejected = unreadable + result.rejected
        result.inputs += len(unreadable)
        result.rounds.insert(0, {"name": "read", "entered": result.inputs, "kept": result.inputs - len(unreadable),
                                 "rejected": len(unreadable), "added": 0,
                                 "reasons": {"unreadable": len(unreadable)}, "rejected_by_task": {},
                                 "seconds": 0.0, "notes": {}})
    result.check_accounting()
    outputs = {}
    for name, rows in (("rejected.jsonl", result.rejected), ("review.jsonl", result.review), ("kept.jsonl", result.kept)):
        outputs[name] = {"lines": write_jsonl(out / name, rows), "bytes": (out / name).stat().st_size}
    with staged_into(out) as staging:
        write_report(result, staging)
        names = sorted(f.name for f in staging.iterdir())
    for name in names:
        outputs[name] = {"bytes": (out / name).stat().st_size}
    if not result.kept:
        raise ValueError(f"{_nothing_kept(result)}; see {out / 'rejected.jsonl'} (no manifest written)")
    manifest = build_manifest(result, files, eval_paths, time.perf_counter() - start)
    manifest["outputs"] = outputs
    manifest.update(manifest_extra(result) if manifest_extra else {"engine": "local"})
    write_json_atomic(out / MANIFEST, manifest)  # last: the completion marker
    return result


def build_manifest(result: CurationResult, files: list[dict], eval_paths: list[str], seconds: float) -> dict:
    return {
        "inputs": result.inputs, "kept": len(result.kept), "kept_original": len(result.kept) - result.upsampled,
        "upsampled": result.upsampled, "rejected": len(result.rejected), "review": len(result.review),
        "input_files": files, "eval_files": eval_paths, "seed": result.config.get("seed"),
        "config": result.config, "rounds": result.rounds, "before": result.before, "after": result.after,
        "targets": result.targets, "checks": as_dicts(result.checks), "ok": result.ok,
        "length_method": result.length_method, "seconds": round(seconds, 2),
    }
