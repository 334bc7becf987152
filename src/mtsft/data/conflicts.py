"""Conflict round: records that teach the model opposite things.

Kinds, each with its policy in `ConflictsConfig` (keep_best, majority, relabel, drop, review, keep):
- label_mismatch: the classifier is sure a trusted label is wrong (a translation prompt labelled math);
- cross_label: the same (or near-same) instruction under two task labels;
- contradictory_answers: the same instruction, same task, answers that disagree. "Disagree" is judged by
  the task's own verifier (answer B scored against record A's reference) where references exist, else
  for short answers (labels, numbers) by their normalised text; long free-form answers may differ;
- answer_shape: an answer shaped like another task's (a code prompt answered with a list of ideas), from
  the registry's `output_likeness`.
Grouping is a group-by on a per-record key (the LSH cluster of the normalised prompt, its numbers and its
last characters): a dict here, Ray Data `groupby` under `--engine ray`; the few groups of two or more are
then judged in the driver.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from mtsft.data import score_cache
from mtsft.data.common import RoundResult, curate_meta, reject, task_of
from mtsft.data.config import ConflictsConfig, DedupConfig
from mtsft.data.parallel import engine_groups, groups_of, map_chunks, map_parts
from mtsft.data.shingles import lsh_components, minhash_signatures
from mtsft.records import response
from mtsft.text import normalize

ROUND = "conflicts"
SHORT_ANSWER = 40


def _registry():
    try:
        from mtsft import tasks
        return {t.name: t for t in tasks.all_tasks()}
    except Exception:
        return {}


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def instruction_text(record: dict) -> str:
    """Everything the last answer responds to: all turns but the last assistant one (a follow-up such as
    "now make it shorter" is only the same instruction when the turns before it are the same too)."""
    last = max(i for i, m in enumerate(record["messages"]) if m["role"] == "assistant")
    return normalize("\n".join(m["content"] for m in record["messages"][:last]))


TAIL = 24


def prompt_groups(records: list[dict], threshold: float, workers: int = 1) -> list[tuple]:
    """Group key per record: near-identical instructions (MinHash LSH cluster) with the same numbers in
    them ("90 km/h for 6 hours" and "50 km/h for 6 hours" are different questions, however similar) and
    the same last characters (one long passage with different questions after it is not one instruction)."""
    if len(records) < 2:
        return [(i, (), "") for i in range(len(records))]
    cfg = DedupConfig()
    parts = map_parts(instruction_facts, records, (cfg,), workers, chunk=10_000)
    sigs = np.concatenate([p[0] for p in parts])
    labels, _ = lsh_components(sigs, cfg.bands, threshold, groups_of=groups_of if engine_groups() else None)
    facts = [f for p in parts for f in p[1]]
    return [(int(label), numbers, tail) for label, (numbers, tail) in zip(labels, facts)]


def instruction_facts(records: list[dict], cfg: DedupConfig) -> tuple[np.ndarray, list[tuple]]:
    """Per batch (the local pool and Ray call it): the instructions' MinHash signatures and, per record,
    the numbers in its instruction and its last characters; each instruction normalised once."""
    texts = [instruction_text(r) for r in records]
    sigs = minhash_signatures(texts, cfg.num_perm, cfg.shingle, cfg.short_shingle, cfg.short_chars)
    return sigs, [(tuple(_NUMBER.findall(t)), t[-TAIL:]) for t in texts]


class _Decisions:
    """Collects what happens to each record; a record's first decision wins."""

    def __init__(self):
        self.action: dict[int, tuple] = {}
        self.counts = Counter()

    def set(self, i: int, kind: str, policy: str, **detail):
        if i in self.action:
            return
        self.counts[kind] += 1
        self.action[i] = (kind, policy, detail)


_RUN_CODE = {"on": True}


def _score(task, answer: str, record: dict) -> float | None:
    if not _RUN_CODE["on"] and score_cache.runs_code(task):
        return None  # code execution switched off (quality.run_code): no evidence from tests
    return score_cache.score(task, answer, record)  # memoised: the quality round already scored most own answers


def answers_agree(a: dict, b: dict, task) -> bool:
    """Both answers pass both records' verifiers (symmetric: a wrong answer copied under a right
    reference must not pass), or, without verifiers, short answers read the same."""
    ra, rb = response(a), response(b)
    if normalize(ra) == normalize(rb):
        return True
    cross = [_score(task, rb, a), _score(task, ra, b)]
    if any(c is not None for c in cross):
        return all(c is None or c >= 0.5 for c in cross)
    return not (len(ra) <= SHORT_ANSWER and len(rb) <= SHORT_ANSWER)


def _rank(records, i, own: dict) -> tuple:
    """Best first: the answer its own verifier accepts, then quality, then input order."""
    score = own.get(i)
    return (-(0.5 if score is None else score), -curate_meta(records[i]).get("quality", 0.5), i)


def check_label_mismatch(records, cfg: ConflictsConfig, relabel_ratio: float, dec: _Decisions):
    for i, r in enumerate(records):
        meta = curate_meta(r)
        guess, conf = meta.get("predicted_task"), meta.get("predicted_confidence", 0.0)
        label_conf = meta.get("label_confidence")
        if (meta.get("task_method") == "label" and guess and guess != r.get("task") and label_conf is not None
                and conf >= relabel_ratio * max(label_conf, 1e-6)):
            dec.set(i, "label_mismatch", cfg.label_mismatch, label=r.get("task"), predicted=guess, confidence=conf)


def member_groups(groups: list[tuple]) -> list[list[int]]:
    """The records of each instruction group of two or more (a group-by on the key; on Ray Data under that
    engine), members ascending, groups in the order of their first member."""
    return [m.tolist() for m in groups_of(groups, 2)]


def _answer_groups(records, members_of: list[list[int]]) -> list[list[int]]:
    """Members of each group with two or more different answers, after the cross-label vote."""
    out = []
    for members in members_of:
        labels = Counter(task_of(records[i]) for i in members)
        if len(labels) > 1:
            majority = max(labels, key=lambda t: (labels[t], -min(i for i in members if task_of(records[i]) == t)))
            members = [i for i in members if task_of(records[i]) == majority]
        if len(members) >= 2 and len({normalize(response(records[i])) for i in members}) >= 2:
            out.append(members)
    return out


def prefetch_scores(records, members_of: list[list[int]], registry, workers: int) -> None:
    """Run the verifiers `_check_answers` will ask for, batched (code ones in a pool): every member's own
    score, then each group's best answer against every other member's reference and back."""
    answer_groups = _answer_groups(records, members_of)

    def triple(i, j):  # record i's answer under record j's reference
        return registry.get(task_of(records[j])), response(records[i]), records[j]

    if not _RUN_CODE["on"]:
        return
    score_cache.score_many([triple(i, i) for m in answer_groups for i in m], workers)
    cross = []
    for members in answer_groups:
        own = {i: _score(registry.get(task_of(records[i])), response(records[i]), records[i]) for i in members}
        best = min(members, key=lambda i: _rank(records, i, own))
        cross += [t for i in members if i != best for t in (triple(best, i), triple(i, best))]
    score_cache.score_many(cross, workers)


def check_groups(records, members_of: list[list[int]], cfg: ConflictsConfig, registry, dec: _Decisions):
    for members in members_of:
        labels = Counter(task_of(records[i]) for i in members)
        if len(labels) > 1:
            majority = max(labels, key=lambda t: (labels[t], -min(i for i in members if task_of(records[i]) == t)))
            for i in members:
                if task_of(records[i]) != majority or cfg.cross_label in ("review", "drop"):
                    dec.set(i, "cross_label", cfg.cross_label, majority=majority,
                            conflict_with=records[members[0]]["id"])
            members = [i for i in members if task_of(records[i]) == majority]
        _check_answers(records, members, cfg, registry, dec)


def _check_answers(records, members, cfg, registry, dec):
    if len(members) < 2 or len({normalize(response(records[i])) for i in members}) < 2:
        return
    task = registry.get(task_of(records[members[0]]))
    own = {i: _score(task, response(records[i]), records[i]) for i in members}
    best = min(members, key=lambda i: _rank(records, i, own))
    clash = [i for i in members if i != best and not answers_agree(records[best], records[i], task)]
    if not clash:
        return
    policy = cfg.contradictory_answers
    involved = [best] + clash
    if policy == "majority":
        votes = Counter(normalize(response(records[i])) for i in involved)
        winner = min(involved, key=lambda i: (-votes[normalize(response(records[i]))], _rank(records, i, own)))
        losers = [i for i in involved if i != winner]
    elif policy in ("review", "drop"):
        losers = involved
    else:  # keep_best / keep / relabel: the best record stays
        losers = clash
    for i in losers:
        other = records[best if i != best else clash[0]]["id"]
        dec.set(i, "contradictory_answers", policy, conflict_with=other)


def answer_shapes(records: list[dict], cfg: ConflictsConfig) -> list[tuple | None]:
    """Per batch (the local pool and Ray call it): for each record whose answer looks unlike its own task's
    and like another task's, (that task, its likeness), else None."""
    registry, out = _registry(), []
    for r in records:
        task = registry.get(task_of(r))
        answer = response(r) if task is not None else ""
        if task is None or task.output_likeness(answer) > cfg.shape_own_max:
            out.append(None)
            continue
        scores = {name: t.output_likeness(answer) for name, t in registry.items() if name != task.name}
        other = max(scores, key=lambda n: (scores[n], n)) if scores else None
        out.append((other, round(scores[other], 3)) if other and scores[other] >= cfg.shape_other_min else None)
    return out


def check_answer_shape(records, cfg: ConflictsConfig, dec: _Decisions, workers: int = 1):
    """Records an earlier check decided keep that decision (`_Decisions` keeps the first)."""
    for i, shape in enumerate(map_chunks(answer_shapes, records, (cfg,), workers)):
        if shape is not None:
            dec.set(i, "answer_shape", cfg.answer_shape, looks_like=shape[0], likeness=shape[1])


def conflicts_round(records: list[dict], cfg: ConflictsConfig, relabel_ratio: float = 5.0,
                    show: bool = True, workers: int = 1, run_code: bool = True) -> RoundResult:
    registry = _registry()
    dec = _Decisions()
    _RUN_CODE["on"] = run_code
    check_label_mismatch(records, cfg, relabel_ratio, dec)
    members_of = member_groups(prompt_groups(records, cfg.near_threshold, workers))
    prefetch_scores(records, members_of, registry, workers)
    check_groups(records, members_of, cfg, registry, dec)
    check_answer_shape(records, cfg, dec, workers)
    kept, rejected, review = [], [], []
    relabelled = 0
    for i, r in enumerate(records):
        if i not in dec.action:
            kept.append(r)
            continue
        kind, policy, detail = dec.action[i]
        if policy == "keep":
            curate_meta(r).setdefault("conflicts", []).append(kind)
            kept.append(r)
        elif policy == "relabel" and (detail.get("predicted") or detail.get("majority") or detail.get("looks_like")):
            new = detail.get("predicted") or detail.get("majority") or detail.get("looks_like")
            curate_meta(r)["relabelled_from"] = r.get("task")
            r["task"] = new
            relabelled += 1
            kept.append(r)
        else:
            rejected.append(reject(r, ROUND, kind, policy=policy, **detail))
            if policy == "review":
                review.append(r)
    notes = {"found": dict(dec.counts), "relabelled": relabelled, "to_review": len(review)}
    return RoundResult(kept, rejected, review=review, notes=notes)
