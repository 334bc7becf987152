"""Quality round: drop records no one should train on, and score the rest so balancing keeps the best.

Hard failures (the record is rejected, reason = the check's name): invalid record, empty or too short,
truncated, over the model's max length, n-gram repetition, answer language not the one asked, refusal
boilerplate, the task's own format violations (from the registry), control characters / mojibake.
Soft signals (the quality score in [0, 1]): repetition, length against the task's median, and the task's
own verifier score against the record's reference when there is one.

What "normal" looks like for a task (does its answer keep the prompt's language? do its answers end on a
full stop?) is learned from the registry's clean generated records, so no task name is hard-coded here.
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mtsft.data.common import LazyTexts, RoundResult, curate_meta, reject, task_of, token_lengths
from mtsft.data import score_cache
from mtsft.data.config import QualityConfig
from mtsft.data.parallel import engine_active, map_chunks
from mtsft.records import RecordError, conversation_text, prompt, response, validate_messages
from mtsft.text import cjk_ratio, has_control_chars

ROUND = "quality"

_REFUSAL = re.compile(
    r"\bas an ai (?:language )?model\b|\bi(?:'m| am) (?:sorry|afraid),? (?:but )?i (?:can(?:no|')t|am unable|won't)"
    r"|\bi cannot (?:help|assist|provide|fulfil)|\bi'm not able to (?:help|assist|provide)"
    r"|作为一个?(?:AI|人工智能)(?:语言模型|助手)?|(?:抱歉|对不起)[，,]?\s*我(?:无法|不能|没办法)|我无法(?:回答|提供|协助)", re.I)
# Typical UTF-8 read as Latin-1/GBK: "Ã©", "â€™", "锟斤拷".
_MOJIBAKE = re.compile(r"Ã[\x80-\xbf©¨¦¤]|â€[™œ\x9d“”˜]|锟斤拷|ï¿½")
_FENCE = re.compile(r"```")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_TERMINAL = set(".!?。！？…」』”\"')）]}>`*|;；:：~-_0123456789")
_WORDS = re.compile(r"[A-Za-z]+|[\u4e00-\u9fff]")


@dataclass(frozen=True)
class TaskProfile:
    keeps_language: bool = True       # answers are in the prompt's language
    ends_cleanly: bool = False        # answers (nearly) always end on terminal punctuation


@lru_cache(maxsize=1)
def task_profiles(per_lang: int = 20, seed: int = 0) -> dict[str, TaskProfile]:
    """What a clean answer of each registry task looks like, from the registry's own generated records."""
    try:
        from mtsft import tasks
        all_tasks = tasks.all_tasks()
    except Exception:  # the registry is optional for curating user data with custom labels
        return {}
    rng = random.Random(seed)
    out = {}
    for task in all_tasks:
        same_lang, clean_end, n = 0, 0, 0
        for lang in ("zh", "en"):
            for _ in range(per_lang):
                rec = task.generate(rng, lang)
                answer = response(rec)
                same_lang += answer_language(answer) in (None, "mixed", expected_language(rec, task))
                clean_end += ends_cleanly(answer)
                n += 1
        out[task.name] = TaskProfile(keeps_language=same_lang >= 0.9 * n, ends_cleanly=clean_end >= 0.97 * n)
    return out


def answer_language(text: str) -> str | None:
    """zh / en / mixed for the prose of an answer (code stripped); None when there is too little to judge."""
    prose = _CODE.sub(" ", text)
    letters = _WORDS.findall(prose)
    if len(letters) < 4:
        return None
    ratio = cjk_ratio(prose)
    return "zh" if ratio >= 0.5 else "en" if ratio <= 0.15 else "mixed"


def expected_language(record: dict, task=None) -> str | None:
    """The language the answer should be in: the task's say (a translation answers in its target
    language), else the record's language, else the prompt's."""
    if task is not None and hasattr(task, "answer_lang"):
        lang = task.answer_lang(record)
        if lang in ("zh", "en"):
            return lang
    lang = record.get("lang")
    return lang if lang in ("zh", "en") else answer_language(prompt(record))


def ends_cleanly(text: str) -> bool:
    tail = text.rstrip()
    return bool(tail) and tail[-1] in _TERMINAL


def looks_truncated(text: str, profile: TaskProfile) -> bool:
    if len(_FENCE.findall(text)) % 2:
        return True
    tail = text.rstrip()
    if tail.count("{") > tail.count("}") or tail.count("[") > tail.count("]"):
        return True
    return profile.ends_cleanly and not ends_cleanly(text)


def repetition_share(text: str) -> float:
    """Share of duplicated 3-grams of words (Latin) / characters (Han): Gopher-style repetition."""
    units = _WORDS.findall(text.lower())
    grams = list(zip(units, units[1:], units[2:]))
    if len(grams) < 10:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def hard_failure(record: dict, cfg: QualityConfig, profile: TaskProfile, task, facts: dict | None = None) -> str | None:
    """The first check the record fails, as a reason code, or None. `facts`, when given, receives the
    answer's repetition share once measured (the score needs it too)."""
    answer = response(record)
    if len(answer.strip()) < cfg.min_response_chars:
        return "too_short"
    text = conversation_text(record)
    if has_control_chars(text):
        return "control_chars"
    if _MOJIBAKE.search(text):
        return "mojibake"
    if _REFUSAL.search(answer):
        return "refusal"
    if cfg.check_truncation and looks_truncated(answer, profile):
        return "truncated"
    repetition = repetition_share(answer)
    if facts is not None:
        facts["repetition"] = repetition
    if repetition > cfg.repetition_threshold:
        return "repetition"
    if cfg.check_language and profile.keeps_language:
        asked, got = expected_language(record, task), answer_language(answer)
        if asked and got and got != "mixed" and got != asked:
            return "wrong_language"
    if cfg.check_format and task is not None:
        try:
            problems = task.format_violations(answer, record)
        except Exception:  # a reference of another shape (a wrong label, imported data without one):
            problems = []   # no format evidence; the conflicts round judges labels
        if problems:
            return "format:" + problems[0]
    return None


def _registry_task(name: str):
    try:
        from mtsft import tasks
        return tasks.get(name)
    except Exception:
        return None


def verifier_score(task, record: dict) -> float | None:
    """The task's own score of the record's answer against its reference (None without a reference)."""
    return score_cache.score_now(task, response(record), record)


class VerifierBudget:
    """Calls each task's verifier while it stays cheap (`quality.verifier_budget_ms` set): a task whose
    score costs more than `budget_ms` per record on average is scored on its first records of each chunk
    only. Timing decides, so a run with a budget may differ from the next; the default (no budget) scores
    every record. Which tasks were cut is reported."""

    def __init__(self, budget_ms: float | None, probe: int = 20):
        self.budget_ms, self.probe = budget_ms, probe
        self.spent: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def skipped(self) -> list[str]:
        return sorted(t for t in self.calls if self._over(t))

    def _over(self, name: str) -> bool:
        if self.budget_ms is None:
            return False
        return self.calls[name] >= self.probe and 1000 * self.spent[name] / self.calls[name] > self.budget_ms

    def score(self, name: str, task, record: dict) -> float | None:
        if (self.budget_ms is not None and self.budget_ms <= 0) or self._over(name):
            return None
        start = time.perf_counter()
        value = verifier_score(task, record)
        self.spent[name] += time.perf_counter() - start
        self.calls[name] += 1
        return value


def record_checks(records: list[dict], cfg: QualityConfig, tokenizer=None, code_here: bool = False) -> list[dict]:
    """The per-record half of the round, for a batch (the local pool and Ray's map_batches call it): per
    record either {"reject": reason, "detail": {...}} or its facts (tokens, answer length, repetition,
    verifier score; "pending" when the verifier runs code, which `quality_round` batches apart, unless
    `code_here`: an engine whose workers are small processes runs it in place)."""
    out: list[dict | None] = [None] * len(records)
    valid = []
    for i, r in enumerate(records):
        try:
            validate_messages(r.get("messages"))  # raises on a broken record; the record keeps its own list
            valid.append(i)
        except RecordError as e:
            out[i] = {"reject": "empty" if "empty" in str(e) else "invalid_record", "detail": {"detail": str(e)},
                      "invalid": True}
    lengths = token_lengths(LazyTexts([records[i] for i in valid], conversation_text), tokenizer)
    profiles = task_profiles()
    task_objs = {t: _registry_task(t) for t in {task_of(records[i]) for i in valid}}
    budget = VerifierBudget(cfg.verifier_budget_ms)
    for i, n in zip(valid, lengths):
        out[i] = facts = _facts(records[i], int(n), cfg, profiles, task_objs, budget)
        if code_here and facts.get("pending"):
            facts["verified"], facts["pending"] = score_cache.score_now(task_objs[task_of(records[i])], response(records[i]), records[i]), False
    if budget.skipped():
        out[valid[0]]["verifier_skipped"] = budget.skipped()  # carried to the round's notes
    return out


def _facts(r: dict, tokens: int, cfg: QualityConfig, profiles: dict, task_objs: dict, budget: VerifierBudget) -> dict:
    name = task_of(r)
    answer = response(r)
    facts = {"tokens": tokens, "answer_len": len(answer)}
    if tokens > cfg.max_tokens:
        return {**facts, "reject": "too_long", "detail": {"tokens": tokens, "max_tokens": cfg.max_tokens}}
    task = task_objs[name]
    failure = hard_failure(r, cfg, profiles.get(name, TaskProfile()), task, facts)
    if failure:
        facts.pop("repetition", None)
        return {**facts, "reject": failure, "detail": {}}
    if score_cache.runs_code(task):
        facts["pending"] = cfg.run_code and score_cache.has_reference(r)
        facts["verified"] = None
    else:
        facts["verified"] = budget.score(name, task, r)
    return facts


def quality_round(records: list[dict], cfg: QualityConfig, tokenizer=None, show: bool = True,
                  workers: int = 1) -> RoundResult:
    task_profiles()  # learned once here, before any worker forks
    facts = map_chunks(record_checks, records, (cfg, tokenizer, engine_active()), workers)
    _run_pending_code(records, facts, workers)
    valid = [i for i, f in enumerate(facts) if not f.get("invalid")]
    median_len = _median_by_task([records[i] for i in valid], np.array([facts[i]["answer_len"] for i in valid], dtype=np.float64))
    rejected = [reject(records[i], ROUND, f["reject"], **f["detail"]) for i, f in enumerate(facts) if f.get("invalid")]
    kept, skipped = [], set()
    for i in valid:
        r, f = records[i], facts[i]
        skipped.update(f.get("verifier_skipped", ()))
        meta = curate_meta(r)
        meta["tokens"] = f["tokens"]
        if "reject" in f:
            rejected.append(reject(r, ROUND, f["reject"], **f["detail"]))
            continue
        relative = f["answer_len"] / max(median_len[task_of(r)], 1.0)
        meta["quality"] = score = quality_score(r, f["verified"], relative, f["repetition"])
        if score < cfg.min_score:
            rejected.append(reject(r, ROUND, "low_score", quality=score))
            continue
        kept.append(r)
    return RoundResult(kept, rejected, notes={"verifier_skipped": sorted(skipped)})


def _run_pending_code(records: list[dict], facts: list[dict], workers: int) -> None:
    """Code-running verifiers, batched: each distinct (answer, tests) once, in a pool of small processes."""
    pending = [i for i, f in enumerate(facts) if f.get("pending")]
    task_objs = {t: _registry_task(t) for t in {task_of(records[i]) for i in pending}}
    items = [(task_objs[task_of(records[i])], response(records[i]), records[i]) for i in pending]
    for i, value in zip(pending, score_cache.score_many(items, workers)):
        facts[i]["verified"] = value


def _median_by_task(records: list[dict], values: np.ndarray) -> dict[str, float]:
    groups = defaultdict(list)
    for r, v in zip(records, values):
        groups[task_of(r)].append(v)
    return {t: float(np.median(v)) for t, v in groups.items()}


def quality_score(record: dict, verified: float | None, relative_length: float,
                  repetition: float | None = None) -> float:
    """Mean of: no repetition, a length near the task's usual one, and the verifier's score if any."""
    parts = [1.0 - (repetition_share(response(record)) if repetition is None else repetition)]
    parts.append(min(max(min(relative_length, 1.0 / max(relative_length, 1e-9)) * 2, 0.0), 1.0))
    if verified is not None:
        parts.append(verified)
    # plain floats, per record: numpy's mean of a 2-3 element list cost more than the rest of the score. Summed
    # left to right from 0.0 as numpy sums fewer than 8 values (not `sum`, which compensates since Python
    # 3.12), so the scores are bit for bit numpy's
    total = 0.0
    for p in parts:
        total += float(p)
    return round(total / len(parts), 4)
